/**
 * What the library tells its caller besides results: the {@link dev.amalgam.diagnostic.Failure}
 * base of its exceptions, with the reason that decides whether the input or the environment is at
 * fault, and the {@link dev.amalgam.diagnostic.WarningListener} that long operations report
 * warnings through.
 */
package dev.amalgam.diagnostic;
