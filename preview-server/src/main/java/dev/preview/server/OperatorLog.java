package dev.preview.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.core.PreviewListener;
import dev.preview.core.ReconcileReport;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lines an operator follows: one per webhook delivery (provider, event, delivery id, key,
 * outcome, HTTP status, ms) and one per state change of a preview (key, state, revision, URL or
 * reason, and on READY or FAILED the step timings of the run). Register it on the orchestrator
 * ({@code listener(log)}) for the state lines and give it to the server ({@code log(log)}) for the
 * delivery lines.
 *
 * <p>{@link #text()} writes through SLF4J (logger {@code dev.preview.server.OperatorLog}, INFO) as
 * {@code key=value} pairs; {@link #json(PrintStream)} writes one JSON object per line for log
 * collectors. Neither ever holds a secret: it logs what the orchestrator tells listeners (keys,
 * states, revisions, URLs, reasons) and delivery metadata, never headers, signatures or bodies.
 * Thread-safe.
 */
public final class OperatorLog implements PreviewListener {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorLog.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final PrintStream json;
  private final Clock clock;
  private final Map<PreviewKey, Map<String, Long>> steps = new ConcurrentHashMap<>();
  private final Map<PreviewKey, String> revisions = new ConcurrentHashMap<>();

  private OperatorLog(PrintStream json, Clock clock) {
    this.json = json;
    this.clock = clock;
  }

  /** {@code key=value} lines through SLF4J at INFO. */
  public static OperatorLog text() {
    return new OperatorLog(null, Clock.systemUTC());
  }

  /** One JSON object per line on {@code out} (e.g. {@code System.out}), with {@code ts}, {@code level}, {@code msg}. */
  public static OperatorLog json(PrintStream out) {
    return new OperatorLog(Objects.requireNonNull(out, "out"), Clock.systemUTC());
  }

  void delivery(String provider, String event, String delivery, String key, String outcome, int status, Duration took) {
    if (json == null && !LOG.isInfoEnabled()) {
      return; // nothing would be written: build nothing on the delivery's thread
    }
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("provider", provider);
    f.put("event", event);
    f.put("delivery", delivery);
    f.put("key", key);
    f.put("outcome", outcome);
    f.put("status", status);
    f.put("ms", took.toMillis());
    emit("delivery", f);
  }

  void reconciled(ReconcileReport r, Duration took) {
    if (r.actions().isEmpty() && r.errors().isEmpty() && !r.scmUnknown()) {
      return; // a quiet reconcile is not news
    }
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("actions", r.actions().size());
    f.put("errors", r.errors().size());
    f.put("scmUnknown", r.scmUnknown());
    f.put("ms", took.toMillis());
    emit("reconcile", f);
  }

  @Override
  public void onStepFinished(PreviewKey key, String step, Duration took, Throwable failure) {
    steps.computeIfAbsent(key, k -> java.util.Collections.synchronizedMap(new LinkedHashMap<>())).put(step, took.toMillis());
  }

  @Override
  public void onTransition(PreviewKey key, PreviewState state, String message) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("key", key.id());
    f.put("state", state.name());
    switch (state) {
      case PROVISIONING, BUILDING -> {
        revisions.put(key, String.valueOf(message));
        f.put("revision", message);
      }
      case READY -> {
        f.put("revision", revisions.get(key));
        f.put("url", message);
      }
      default -> {
        f.put("revision", revisions.get(key));
        f.put("reason", message);
      }
    }
    if (state == PreviewState.READY || state == PreviewState.FAILED || state == PreviewState.DELETED) {
      Map<String, Long> s = steps.remove(key);
      if (s != null) {
        synchronized (s) {
          f.put("stepsMs", new LinkedHashMap<>(s));
        }
      }
      if (state == PreviewState.DELETED) {
        revisions.remove(key);
      }
    }
    emit("state", f);
  }

  private static void put(ObjectNode n, String k, Object v) {
    if (v == null) {
      n.putNull(k);
    } else if (v instanceof Integer i) {
      n.put(k, i);
    } else if (v instanceof Long l) {
      n.put(k, l);
    } else if (v instanceof Boolean b) {
      n.put(k, b);
    } else if (v instanceof Map<?, ?> m) {
      ObjectNode inner = n.putObject(k);
      m.forEach((ik, iv) -> put(inner, String.valueOf(ik), iv));
    } else {
      n.put(k, v.toString());
    }
  }

  private void emit(String what, Map<String, Object> fields) {
    if (json != null) {
      ObjectNode n = JSON.createObjectNode().put("ts", clock.instant().toString()).put("level", "INFO").put("msg", what);
      fields.forEach((k, v) -> put(n, k, v));
      String line = n.toString();
      synchronized (json) {
        json.println(line);
        json.flush();
      }
      return;
    }
    if (!LOG.isInfoEnabled()) {
      return;
    }
    StringBuilder b = new StringBuilder(what);
    fields.forEach((k, v) -> {
      if (v != null) {
        String s = v.toString();
        b.append(' ').append(k).append('=').append(s.isEmpty() || s.indexOf(' ') >= 0 ? "\"" + s.replace("\"", "'") + "\"" : s);
      }
    });
    LOG.info("{}", b);
  }

  /**
   * One line per operator action (dashboard, PR comment command): who, through what, on which
   * preview, what, and whether it was done.
   */
  public void action(String who, String via, PreviewKey key, String action, boolean done, String message) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("user", who);
    f.put("via", via);
    f.put("key", key.id());
    f.put("action", action);
    f.put("done", done);
    f.put("message", message);
    emit("action", f);
  }
}
