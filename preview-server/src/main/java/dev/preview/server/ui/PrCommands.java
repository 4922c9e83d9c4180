package dev.preview.server.ui;

import dev.preview.core.Preview;
import dev.preview.core.PreviewActions;
import dev.preview.scm.CommandPermissions;
import dev.preview.scm.CommentCommand;
import dev.preview.scm.WebhookResult;
import dev.preview.server.OperatorLog;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out {@code /preview} PR comment commands ({@code WebhookServer.Builder.commands(prCommands)}):
 * {@code deploy}, {@code redeploy}, {@code stop}, {@code extend 48h}, {@code pin}, {@code unpin},
 * {@code status}, {@code help}.
 *
 * <ul>
 *   <li>Comments of bots are ignored (no answer). A command on a closed PR is refused. {@code help}
 *       and {@code status} answer anyone who may comment; every other command needs write permission
 *       on GitHub or Developer on GitLab ({@link CommandPermissions}), else a polite refusal; an SCM
 *       that cannot be asked refuses too (never "allowed" when unknown).</li>
 *   <li>The answer goes into the PR's sticky status as its "last command" line (no new comment), and
 *       one {@link OperatorLog#action} line with the user.</li>
 *   <li>A comment is carried out once: a redelivery of the same comment is a duplicate. The effects
 *       themselves are idempotent (pin twice is pinned; extend counts from the current expiry).</li>
 * </ul>
 *
 * The delivery is answered at once; the work runs on this class's own threads. Thread-safe.
 */
public final class PrCommands implements Function<WebhookResult.Command, String>, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PrCommands.class);
  static final int REMEMBERED = 10_000;
  static final String HELP = "commands: /preview deploy · redeploy · stop · extend 48h · pin · unpin · status · help";

  private final PreviewActions actions;
  private final CommandPermissions permissions;
  private final OperatorLog log;
  private final ExecutorService workers;
  private volatile Leadership leadership = Leadership.always();
  private final Map<String, Boolean> seen = Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, false) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > REMEMBERED;
    }
  });

  public PrCommands(PreviewActions actions, CommandPermissions permissions, OperatorLog log) {
    this.actions = Objects.requireNonNull(actions, "actions");
    this.permissions = Objects.requireNonNull(permissions, "permissions");
    this.log = Objects.requireNonNull(log, "log");
    this.workers = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "preview-commands");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Carries commands out only while {@code l} leads: on a replica that does not, a delivery is refused
   * (an exception the server answers 503 with, naming the leader; the comment is not remembered, so its
   * redelivery to the leader runs), and a command accepted just before the leadership was lost answers
   * "not done" naming the leader. Default: always leads.
   */
  public PrCommands leadership(Leadership l) {
    this.leadership = Objects.requireNonNull(l, "leadership");
    return this;
  }

  @Override
  public String apply(WebhookResult.Command delivery) {
    CommentCommand c = delivery.command();
    if (c.bot()) {
      LOG.debug("{}: ignoring {} by bot {}", c.key(), c.text(), c.user());
      return "ignored: comments of bots are not commands";
    }
    if (!leadership.leads()) {
      throw new IllegalStateException(leadership.refusal("/preview " + c.verb()));
    }
    if (seen.putIfAbsent(c.key().id() + "/" + c.commentId(), Boolean.TRUE) != null) {
      return "duplicate: comment " + c.commentId() + " was already handled";
    }
    workers.execute(() -> run(c));
    return "running " + c.text() + " for " + c.user();
  }

  /** Carries {@code c} out now, on the caller's thread; what it answered. */
  String run(CommentCommand c) {
    boolean done = false;
    String answer;
    try {
      if (!c.known()) {
        answer = "\"" + c.verb() + "\" is not a command; " + HELP;
      } else if (!c.open()) {
        answer = "refused: this pull request is closed; /preview commands work on open ones";
      } else if (c.verb().equals("help")) {
        answer = HELP;
        done = true;
      } else if (c.verb().equals("status")) {
        answer = status(c.key());
        done = true;
      } else if (!leadership.leads()) {
        answer = leadership.refusal(c.text());
      } else {
        CommandPermissions.Permission p = permissions.check(c);
        if (!p.allowed()) {
          answer = "sorry, " + c.text() + " needs " + (permissions.name().equals("gitlab") ? "the Developer role" : "write access")
              + " to this repository (you have " + p.role() + ")";
        } else {
          PreviewActions.Result r = act(c);
          done = r.done();
          answer = (r.done() ? "" : "not done: ") + r.message();
        }
      }
    } catch (ProviderException e) {
      answer = "refused: the permission could not be checked with the SCM now; try again later";
      LOG.warn("{}: {} by {}: {}", c.key(), c.text(), c.user(), e.getMessage());
    } catch (RuntimeException e) {
      answer = "failed: " + e.getMessage();
      LOG.warn("{}: {} by {} failed: {}", c.key(), c.text(), c.user(), e.toString());
    }
    String line = "@" + c.user() + " " + c.text() + ": " + answer;
    log.action(c.user(), "comment", c.key(), c.verb(), done, answer);
    try {
      actions.orchestrator().answer(c.key(), line);
    } catch (RuntimeException e) {
      LOG.warn("{}: could not put the answer to {} into the status: {}", c.key(), c.text(), e.toString());
    }
    return line;
  }

  private PreviewActions.Result act(CommentCommand c) {
    PreviewKey key = c.key();
    return switch (c.verb()) {
      case "deploy" -> actions.deploy(key);
      case "redeploy" -> actions.redeploy(key);
      case "stop" -> actions.stop(key, "stopped by " + c.user() + " (/preview stop)");
      case "pin" -> actions.pin(key);
      case "unpin" -> actions.unpin(key);
      case "extend" -> {
        Optional<Duration> d = c.extension();
        yield d.isPresent() ? actions.extend(key, d.get())
            : new PreviewActions.Result(false, "\"" + c.argument() + "\" is not a duration; try /preview extend 48h", null);
      }
      default -> throw new IllegalArgumentException(c.verb());
    };
  }

  private String status(PreviewKey key) {
    Optional<Preview> p = actions.orchestrator().get(key);
    if (p.isEmpty()) {
      return "no preview runs for this pull request; /preview deploy starts one";
    }
    Preview v = p.get();
    return v.state().name().toLowerCase(java.util.Locale.ROOT) + (v.url() != null ? " at " + v.url() : "")
        + (v.expires() != null ? ", expires " + v.expires() : "");
  }

  /** Lets running commands finish (up to 10 s). */
  @Override
  public void close() {
    workers.shutdown();
    try {
      workers.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
