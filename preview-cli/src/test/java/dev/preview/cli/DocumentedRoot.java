package dev.preview.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository root (the directory with {@code .ci/run}), where the templates and manifests live. */
final class DocumentedRoot {
  private DocumentedRoot() {}

  static Path root() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve(".ci/run"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("the repository root (with .ci/run) is not above " + Path.of("").toAbsolutePath());
    }
    return p;
  }
}
