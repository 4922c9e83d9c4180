package dev.preview.core;

import dev.preview.spi.Installation;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * The checkouts of {@code build.from: source}, one per preview under one root:
 * {@code <root>/<name>/} holds the PR's code at the deployed revision and {@code <root>/<name>.build.log}
 * the output of its last {@code app.build}, where {@code <name>} is {@link Names#dnsLabel(Installation, PreviewKey)}
 * (so two installations sharing a root never share a checkout). A workspace is reused by every push
 * of its PR and removed by the teardown.
 *
 * <p>Immutable; one key's workspace is used by one run at a time (the key's worker thread).
 */
final class Workspaces {
  private final Path root;
  private final Installation installation;

  Workspaces(Path root, Installation installation) {
    this.root = root.toAbsolutePath().normalize();
    this.installation = installation;
  }

  Path root() {
    return root;
  }

  /** The checkout of {@code key} (may not exist yet). */
  Path of(PreviewKey key) {
    return root.resolve(Names.dnsLabel(installation, key));
  }

  /** The output of {@code key}'s last build. */
  Path buildLog(PreviewKey key) {
    return root.resolve(Names.dnsLabel(installation, key) + ".build.log");
  }

  /** The last {@code lines} lines of {@code key}'s build log (read from its last 64 KiB); empty when there is none. */
  List<String> buildLogTail(PreviewKey key, int lines) {
    Path f = buildLog(key);
    try (RandomAccessFile in = new RandomAccessFile(f.toFile(), "r")) {
      long from = Math.max(0, in.length() - 64 * 1024);
      byte[] buf = new byte[(int) (in.length() - from)];
      in.seek(from);
      in.readFully(buf);
      List<String> all = new ArrayList<>(List.of(new String(buf, StandardCharsets.UTF_8).split("\r?\n")));
      if (from > 0 && !all.isEmpty()) {
        all.remove(0); // a partial line
      }
      all.removeIf(String::isBlank);
      return List.copyOf(all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return List.of();
    }
  }

  /** Removes {@code key}'s checkout and build log. Idempotent. */
  void delete(PreviewKey key) {
    deleteTree(of(key));
    try {
      Files.deleteIfExists(buildLog(key));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + buildLog(key) + ": " + e.getMessage(), e);
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          file.toFile().setWritable(true); // git packs are read-only
          Files.deleteIfExists(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
          Files.deleteIfExists(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (NoSuchFileException e) {
      // gone meanwhile
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove workspace " + dir + ": " + e.getMessage(), e);
    }
  }
}
