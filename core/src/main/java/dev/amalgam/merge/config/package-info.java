/**
 * mergekit-compatible merge configuration: {@link dev.amalgam.merge.config.ConfigReader} parses the
 * YAML into a {@link dev.amalgam.merge.config.MergeConfig}; parameter settings resolve per tensor
 * with mergekit's filter and gradient rules.
 */
package dev.amalgam.merge.config;
