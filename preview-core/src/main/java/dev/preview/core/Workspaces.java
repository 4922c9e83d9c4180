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
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The checkouts of {@code build.from: source}, one per preview under one root:
 * {@code <root>/<name>/} holds the PR's code at the deployed revision, {@code <root>/<name>.build.log}
 * the output of its last {@code app.build} and {@code <root>/<name>.built} the revision it was last
 * fetched and built at (so an event that changes no code, a label, does not build again), where {@code <name>} is {@link Names#dnsLabel(Installation, PreviewKey)}
 * (so two installations sharing a root never share a checkout). A workspace is reused by every push
 * of its PR and removed by the teardown. Since the name is a hashed label, {@code <root>/<name>.key}
 * records the key ({@link PreviewKey#id()}), so reconcile can map a directory back to its preview
 * ({@link #list()}) and remove the workspaces nothing else tears down.
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

  /** The sidecar file naming the key whose workspace {@code <root>/<name>/} is. */
  Path keyFile(PreviewKey key) {
    return root.resolve(Names.dnsLabel(installation, key) + ".key");
  }

  /**
   * The checkout of {@code key}, its root created and its key recorded next to it: what a build
   * fetches into.
   */
  Path prepare(PreviewKey key) {
    Path f = keyFile(key);
    try {
      Files.createDirectories(root);
      if (!Files.isRegularFile(f) || !Files.readString(f, StandardCharsets.UTF_8).strip().equals(key.id())) {
        Path tmp = root.resolve(f.getFileName() + ".tmp");
        Files.writeString(tmp, key.id() + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record the key of workspace " + of(key) + ": " + e.getMessage(), e);
    }
    return of(key);
  }

  /**
   * What is under the root.
   *
   * @param keys the previews of this installation that have a workspace (a directory or its build log)
   * @param unmapped directories that are no workspace of a known key: no {@code <name>.key} next to
   *     them, or one that cannot be read or names a key whose workspace has another name; left alone
   */
  record Listing(Set<PreviewKey> keys, List<Path> unmapped) {}

  /**
   * The workspaces under the root, mapped back to their keys by their {@code .key} files. A key
   * file of another installation sharing the root (its key's name here differs) is not ours and is
   * not reported; a directory with no key file is reported unmapped. An absent root: nothing.
   */
  Listing list() {
    Set<PreviewKey> keys = new TreeSet<>();
    List<Path> unmapped = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return new Listing(keys, unmapped);
    }
    Set<String> mappedNames = new TreeSet<>();
    Set<String> foreignNames = new TreeSet<>();
    List<Path> entries;
    try (Stream<Path> s = Files.list(root)) {
      entries = s.sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the workspaces in " + root + ": " + e.getMessage(), e);
    }
    for (Path p : entries) {
      String file = p.getFileName().toString();
      if (!file.endsWith(".key") || !Files.isRegularFile(p)) {
        continue;
      }
      String name = file.substring(0, file.length() - ".key".length());
      PreviewKey key;
      try {
        key = PreviewKey.parse(Files.readString(p, StandardCharsets.UTF_8).strip());
      } catch (IOException | RuntimeException e) {
        continue; // unreadable: its directory is reported unmapped below
      }
      if (!Names.dnsLabel(installation, key).equals(name)) {
        foreignNames.add(name); // another installation's (or a renamed copy): not ours to remove
        continue;
      }
      mappedNames.add(name);
      if (Files.exists(of(key)) || Files.exists(buildLog(key))) {
        keys.add(key);
      }
    }
    for (Path p : entries) {
      String file = p.getFileName().toString();
      if (Files.isDirectory(p) && !mappedNames.contains(file) && !foreignNames.contains(file)) {
        unmapped.add(p);
      }
    }
    return new Listing(keys, unmapped);
  }

  /**
   * The record of {@code key}'s last successful fetch and build: {@code <root>/<name>.built}, outside
   * the checkout (the PR's code cannot forge it), holding the revision and what built it.
   */
  Path builtFile(PreviewKey key) {
    return root.resolve(Names.dnsLabel(installation, key) + ".built");
  }

  /** Whether the checkout of {@code key} exists and was fetched and built at {@code revision} by {@code build}. */
  boolean builtAt(PreviewKey key, String revision, List<String> build) {
    try {
      return Files.isDirectory(of(key))
          && Files.readString(builtFile(key), StandardCharsets.UTF_8).equals(builtRecord(revision, build));
    } catch (IOException e) {
      return false;
    }
  }

  /** Records that {@code key}'s checkout is fetched and built at {@code revision}. */
  void markBuilt(PreviewKey key, String revision, List<String> build) {
    Path f = builtFile(key);
    Path tmp = root.resolve(f.getFileName() + ".tmp");
    try {
      Files.writeString(tmp, builtRecord(revision, build), StandardCharsets.UTF_8);
      Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record the build of workspace " + of(key) + ": " + e.getMessage(), e);
    }
  }

  /** Forgets {@code key}'s last build: before a fetch changes the checkout. */
  void clearBuilt(PreviewKey key) {
    try {
      Files.deleteIfExists(builtFile(key));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + builtFile(key) + ": " + e.getMessage(), e);
    }
  }

  private static String builtRecord(String revision, List<String> build) {
    return revision + "\n" + String.join("\u0000", build) + "\n";
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

  /** Removes {@code key}'s checkout, build log and key file (last, so a failed removal stays mappable). Idempotent. */
  void delete(PreviewKey key) {
    deleteTree(of(key));
    for (Path f : List.of(builtFile(key), buildLog(key), keyFile(key))) {
      try {
        Files.deleteIfExists(f);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot remove " + f + ": " + e.getMessage(), e);
      }
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
