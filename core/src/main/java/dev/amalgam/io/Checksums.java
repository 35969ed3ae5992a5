package dev.amalgam.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Content hashes of files, as lower-case hex. */
public final class Checksums {
  private Checksums() {}

  /** The SHA-256 of a file's bytes, read in 1 MiB chunks. */
  public static String sha256(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      byte[] buffer = new byte[1 << 20];
      while (in.read(buffer) >= 0) {
        // reading feeds the digest
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
