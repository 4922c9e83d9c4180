package dev.preview.server.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.spi.PreviewKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The summary's events (a run that reached READY, a resource reconcile reclaimed) as JSON lines in a
 * file ({@code dashboard.figuresFile}), so that the 7-day figures survive a restart and, on a volume
 * every replica mounts, agree across replicas: each event is one appended line, and a reader parses
 * the file again only when its size or modification time changed. Lines older than the window are
 * dropped when the file is opened. Thread-safe.
 */
final class FiguresLog {
  private static final Logger LOG = LoggerFactory.getLogger(FiguresLog.class);

  /** One event: {@code ms} is the time to URL ({@code url}) or -1 ({@code reclaim}, with {@code what}). */
  record Event(String type, Instant at, PreviewKey key, long ms, String what) {}

  private final Path file;
  private long size = -1;
  private long modified = -1;
  private List<Event> cached = List.of();

  FiguresLog(Path file, Instant since) {
    this.file = file;
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      if (Files.exists(file)) {
        List<Event> keep = read().stream().filter(e -> !e.at().isBefore(since)).toList();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        StringBuilder b = new StringBuilder();
        keep.forEach(e -> b.append(line(e)).append('\n'));
        Files.writeString(tmp, b, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("dashboard.figuresFile: cannot use " + file + ": " + e.getMessage(), e);
    }
  }

  synchronized void append(Event e) {
    try {
      Files.writeString(file, line(e) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
          StandardOpenOption.WRITE);
    } catch (IOException ex) {
      LOG.warn("dashboard: could not append to {}: {}", file, ex.getMessage());
    }
  }

  /** Every event in the file (re-read only if it changed). */
  synchronized List<Event> events() {
    try {
      long s = Files.size(file);
      long m = Files.getLastModifiedTime(file).toMillis();
      if (s != size || m != modified) {
        cached = read();
        size = s;
        modified = m;
      }
    } catch (IOException e) {
      // not written yet, or gone: what was read before
    }
    return cached;
  }

  private List<Event> read() throws IOException {
    List<Event> out = new ArrayList<>();
    if (!Files.exists(file)) {
      return out;
    }
    for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      try {
        JsonNode n = PreviewJson.JSON.readTree(l);
        out.add(new Event(n.get("t").asText(), Instant.parse(n.get("at").asText()), PreviewKey.parse(n.get("key").asText()),
            n.path("ms").asLong(-1), n.path("what").asText("")));
      } catch (IOException | RuntimeException e) {
        // a torn or foreign line: skipped
      }
    }
    return out;
  }

  private static String line(Event e) {
    ObjectNode n = PreviewJson.JSON.createObjectNode().put("t", e.type()).put("at", e.at().toString()).put("key", e.key().id());
    if (e.ms() >= 0) {
      n.put("ms", e.ms());
    }
    if (!e.what().isEmpty()) {
      n.put("what", e.what());
    }
    return n.toString();
  }

  @Override
  public String toString() {
    return "FiguresLog{" + file + "}";
  }

  static Duration ms(long ms) {
    return Duration.ofMillis(ms);
  }
}
