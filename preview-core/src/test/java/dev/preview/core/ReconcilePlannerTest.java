package dev.preview.core;

import static dev.preview.core.ReconcileReport.Kind.DELETE_ORPHAN;
import static dev.preview.core.ReconcileReport.Kind.EXPIRE;
import static dev.preview.core.ReconcileReport.Kind.FINISH_TEARDOWN;
import static dev.preview.core.ReconcileReport.Kind.REDEPLOY;
import static dev.preview.core.ReconcileReport.Kind.SLEEP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.ReconcilePlanner.Facts;
import dev.preview.core.ReconcilePlanner.PlannedAction;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The reconcile decisions as a table: observed facts in, the exact planned actions out. */
class ReconcilePlannerTest {
  static final String REPO = "acme/shop";
  static final String OTHER_REPO = "acme/blog";
  static final PreviewKey PR1 = PreviewKey.pr(REPO, 1);
  static final PreviewKey PR2 = PreviewKey.pr(REPO, 2);
  static final PreviewKey PR3 = PreviewKey.pr(REPO, 3);
  static final PreviewKey BLOG7 = PreviewKey.pr(OTHER_REPO, 7);
  static final PreviewKey MAIN = PreviewKey.branch(REPO, "main");
  static final Instant NOW = Instant.parse("2026-11-01T12:00:00Z");
  /** Expiry after 8 h without a push, sleep after 2 h idle, pinned by the label "preview:pin". */
  static final PreviewPolicy POLICY = PreviewPolicy.builder()
      .ttl(Duration.ofHours(8)).sleepAfter(Duration.ofHours(2)).pinLabel("preview:pin").build();

  static final String GONE = "its PR is no longer open";
  static final String LEFTOVERS = "leftovers without an environment (half-done deploy or teardown)";
  static final String MISSING = "its PR is open but the environment is missing";
  static final String IDLE = "it was idle for more than 2h";
  static final String NOTHING_DEPLOYED =
      "its PR is open but has no preview (its opened event was lost, or a wait for its build was forgotten by a restart)";

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void plans_exactly_these_actions(String name, Facts facts, List<PlannedAction> expected) {
    assertThat(ReconcilePlanner.plan(facts)).containsExactlyElementsOf(expected);
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        row("nothing owned: nothing to do",
            f -> f, List.of()),
        row("fresh preview of an open PR is kept",
            f -> f.env(fresh(PR1)).open(REPO, pr(PR1)), List.of()),
        row("orphan: PR gone, everything it owns is deleted",
            f -> f.env(fresh(PR1)).db(PR1).dns(PR1).open(REPO),
            List.of(act(PR1, DELETE_ORPHAN, GONE))),
        row("orphan: only the PR that is gone, the open one is kept",
            f -> f.env(fresh(PR1)).env(fresh(PR2)).open(REPO, pr(PR2)),
            List.of(act(PR1, DELETE_ORPHAN, GONE))),
        row("half-done teardown of a gone PR: the orphan rule comes first",
            f -> f.db(PR1).dns(PR1).open(REPO),
            List.of(act(PR1, DELETE_ORPHAN, GONE))),
        row("half-done teardown without an SCM to ask: leftovers are removed",
            f -> f.db(PR1).dns(PR1),
            List.of(act(PR1, FINISH_TEARDOWN, LEFTOVERS))),
        row("half-done teardown of a branch preview (not a PR): leftovers are removed",
            f -> f.db(MAIN).open(REPO),
            List.of(act(MAIN, FINISH_TEARDOWN, LEFTOVERS))),
        row("SCM unknown: deletes are held back, sleep is still done",
            f -> f.env(fresh(PR1)).env(expired(PR2)).env(idle(PR3)).db(MAIN).unknown(REPO).suspend(true),
            List.of(held(PR2, EXPIRE, ttlRanOut()), act(PR3, SLEEP, IDLE), held(MAIN, FINISH_TEARDOWN, LEFTOVERS))),
        row("SCM unknown for one repository: deletes of every repository are held back",
            f -> f.env(fresh(BLOG7)).open(OTHER_REPO).env(fresh(PR1)).unknown(REPO),
            List.of(held(BLOG7, DELETE_ORPHAN, GONE))),
        row("SCM unknown: a redeploy is still done",
            f -> f.db(PR1).open(REPO, pr(PR1)).env(fresh(BLOG7)).unknown(OTHER_REPO).redeployMissing(true),
            List.of(act(PR1, REDEPLOY, MISSING))),
        row("busy key is skipped",
            f -> f.env(fresh(PR1)).env(fresh(PR2)).open(REPO).busy(PR1),
            List.of(act(PR2, DELETE_ORPHAN, GONE))),
        row("key touched since the listing is skipped",
            f -> f.env(expired(PR1)).db(PR2).open(REPO, pr(PR1)).touched(PR2),
            List.of(act(PR1, EXPIRE, ttlRanOut()))),
        row("environment at an older commit than its open PR's head, redeployMissing on: redeploy the head",
            f -> f.env(fresh(PR1)).open(REPO, pr(PR1).withHeadSha("def4567890")).redeployMissing(true),
            List.of(act(PR1, REDEPLOY, "its PR's head is def4567 but abc123 is deployed"))),
        row("the PR's head failed its readiness gate and was rolled back to the older commit: not redeployed again",
            f -> f.env(env(PR1, NOW.minus(Duration.ofMinutes(10)), Environment.Phase.RUNNING,
                    Map.of(Labels.FAILED_REVISION, "def4567890")))
                .open(REPO, pr(PR1).withHeadSha("def4567890")).redeployMissing(true),
            List.of()),
        row("a failed mark of another commit does not hold back the redeploy of the head",
            f -> f.env(env(PR1, NOW.minus(Duration.ofMinutes(10)), Environment.Phase.RUNNING,
                    Map.of(Labels.FAILED_REVISION, "0000000000")))
                .open(REPO, pr(PR1).withHeadSha("def4567890")).redeployMissing(true),
            List.of(act(PR1, REDEPLOY, "its PR's head is def4567 but abc123 is deployed"))),
        row("environment at an older commit than its open PR's head, redeployMissing off: left alone",
            f -> f.env(fresh(PR1)).open(REPO, pr(PR1).withHeadSha("def4567890")).redeployMissing(false),
            List.of()),
        row("environment at an abbreviation of its PR's head: the same commit, nothing to do",
            f -> f.env(fresh(PR1)).open(REPO, pr(PR1).withHeadSha("abc123def0")).redeployMissing(true),
            List.of()),
        row("environment missing, PR open, redeployMissing on: redeploy",
            f -> f.db(PR1).dns(PR1).open(REPO, pr(PR1)).redeployMissing(true),
            List.of(act(PR1, REDEPLOY, MISSING))),
        row("open PR with nothing deployed at all, redeployMissing on: deployed (after the owned keys)",
            f -> f.env(expired(PR1)).open(REPO, pr(PR1), pr(PR2)).redeployMissing(true),
            List.of(act(PR1, EXPIRE, ttlRanOut()), act(PR2, REDEPLOY, NOTHING_DEPLOYED))),
        row("open PR with nothing deployed, redeployMissing off: left alone",
            f -> f.open(REPO, pr(PR2)).redeployMissing(false),
            List.of()),
        row("open PR with nothing deployed that the policy skips (a draft): left alone",
            f -> f.open(REPO, pr(PR2).withDraft(true)).redeployMissing(true),
            List.of()),
        row("open PR with nothing deployed, busy or touched since the listing: left alone",
            f -> f.open(REPO, pr(PR2), pr(PR3)).busy(PR2).touched(PR3).redeployMissing(true),
            List.of()),
        row("environment missing, PR open, redeployMissing off: the leftovers of an open PR are kept",
            f -> f.db(PR1).dns(PR1).open(REPO, pr(PR1)).redeployMissing(false),
            List.of()),
        row("expiry by TTL: no push for longer than the TTL",
            f -> f.env(expired(PR1)).open(REPO, pr(PR1)),
            List.of(act(PR1, EXPIRE, ttlRanOut()))),
        row("expiry comes before sleep",
            f -> f.env(expired(PR1)).open(REPO, pr(PR1)).suspend(true),
            List.of(act(PR1, EXPIRE, ttlRanOut()))),
        row("idle and the provider can suspend: sleep",
            f -> f.env(idle(PR1)).open(REPO, pr(PR1)).suspend(true),
            List.of(act(PR1, SLEEP, IDLE))),
        row("idle but the provider cannot suspend: no sleep",
            f -> f.env(idle(PR1)).open(REPO, pr(PR1)).suspend(false),
            List.of()),
        row("already asleep: no second sleep",
            f -> f.env(env(PR1, NOW.minus(Duration.ofHours(3)), Environment.Phase.SUSPENDED, Map.of()))
                .open(REPO, pr(PR1)).suspend(true),
            List.of()),
        row("pinned by the PR's label: neither expired nor put to sleep",
            f -> f.env(expired(PR1)).env(idle(PR2)).open(REPO, pr(PR1).withLabels(Set.of("preview:pin")),
                pr(PR2).withLabels(Set.of("preview:pin"))).suspend(true),
            List.of()),
        row("pinned by the environment's label when the SCM state is unknown",
            f -> f.env(env(PR1, NOW.minus(Duration.ofHours(9)), Environment.Phase.RUNNING, Map.of(Labels.PINNED, "true")))
                .unknown(REPO),
            List.of()),
        row("the PR's labels win over the environment's: pin label removed, so it expires",
            f -> f.env(env(PR1, NOW.minus(Duration.ofHours(9)), Environment.Phase.RUNNING, Map.of(Labels.PINNED, "true")))
                .open(REPO, pr(PR1)),
            List.of(act(PR1, EXPIRE, ttlRanOut()))),
        row("branch key is never orphaned by \"PR gone\"",
            f -> f.env(fresh(MAIN)).open(REPO),
            List.of()),
        row("branch key still expires by TTL",
            f -> f.env(expired(MAIN)).open(REPO),
            List.of(act(MAIN, EXPIRE, ttlRanOut()))),
        row("workspace left without an environment, its PR gone: removed as an orphan",
            f -> f.workspace(PR1).open(REPO),
            List.of(act(PR1, DELETE_ORPHAN, GONE))),
        row("workspace of an open PR without an environment (a failed build): kept",
            f -> f.workspace(PR1).open(REPO, pr(PR1)),
            List.of()),
        row("workspace of an open PR without an environment, redeployMissing on: redeployed, not removed",
            f -> f.workspace(PR1).open(REPO, pr(PR1)).redeployMissing(true),
            List.of(act(PR1, REDEPLOY, MISSING))),
        row("workspace of a running preview of an open PR: kept",
            f -> f.env(fresh(PR1)).workspace(PR1).open(REPO, pr(PR1)),
            List.of()),
        row("workspace of a PR with work in flight: left alone, even if its PR is gone",
            f -> f.workspace(PR1).workspace(PR2).open(REPO).busy(PR1).touched(PR2),
            List.of()),
        row("workspace of a branch preview without an environment: leftovers removed",
            f -> f.workspace(MAIN).open(REPO),
            List.of(act(MAIN, FINISH_TEARDOWN, LEFTOVERS))),
        row("workspace without an environment, SCM unknown: the removal is held back",
            f -> f.workspace(PR1).unknown(REPO),
            List.of(held(PR1, FINISH_TEARDOWN, LEFTOVERS))),
        row("workspaces are one more fact: with a database of another key, one action each",
            f -> f.workspace(PR2).db(PR1).open(REPO, pr(PR2)),
            List.of(act(PR1, DELETE_ORPHAN, GONE))),
        row("several keys: one action each, in key order",
            f -> f.env(fresh(PR2)).db(PR1).env(idle(PR3)).open(REPO, pr(PR3)).suspend(true),
            List.of(act(PR1, DELETE_ORPHAN, GONE), act(PR2, DELETE_ORPHAN, GONE), act(PR3, SLEEP, IDLE))));
  }

  // ---------------------------------------------------------------- table helpers

  static Arguments row(String name, UnaryOperator<FactsBuilder> facts, List<PlannedAction> expected) {
    return Arguments.of(name, facts.apply(new FactsBuilder()).build(), expected);
  }

  static PlannedAction act(PreviewKey key, ReconcileReport.Kind kind, String reason) {
    return new PlannedAction(key, kind, reason, false);
  }

  static PlannedAction held(PreviewKey key, ReconcileReport.Kind kind, String reason) {
    return new PlannedAction(key, kind, reason, true);
  }

  /** Pushed 9 h ago: its 8 h TTL ran out an hour ago. */
  static Environment expired(PreviewKey key) {
    return env(key, NOW.minus(Duration.ofHours(9)), Environment.Phase.RUNNING, Map.of());
  }

  static String ttlRanOut() {
    return "its TTL ran out at " + NOW.minus(Duration.ofHours(1)) + " (no push since)";
  }

  /** Pushed 3 h ago: idle for longer than sleepAfter, within its TTL. */
  static Environment idle(PreviewKey key) {
    return env(key, NOW.minus(Duration.ofHours(3)), Environment.Phase.RUNNING, Map.of());
  }

  /** Pushed 10 minutes ago. */
  static Environment fresh(PreviewKey key) {
    return env(key, NOW.minus(Duration.ofMinutes(10)), Environment.Phase.RUNNING, Map.of());
  }

  static Environment env(PreviewKey key, Instant lastPush, Environment.Phase phase, Map<String, String> extra) {
    Map<String, String> labels = new LinkedHashMap<>(Labels.ownership(key, "abc123"));
    labels.put(Labels.CREATED, lastPush.toString());
    labels.put(Labels.LAST_ACTIVITY, lastPush.toString());
    labels.put(Labels.EXPIRES, lastPush.plus(POLICY.ttl()).toString());
    labels.putAll(extra);
    return new Environment(key, "abc123", URI.create("http://10.0.0.1:8080/"), phase, labels);
  }

  static PullRequest pr(PreviewKey key) {
    return PullRequest.open(key, "abc123", "feature-" + key.number(), "main");
  }

  static final class FactsBuilder {
    final Map<PreviewKey, Environment> environments = new TreeMap<>();
    final Set<PreviewKey> databases = new TreeSet<>();
    final Map<PreviewKey, List<DnsRecord>> records = new TreeMap<>();
    final Set<PreviewKey> workspaces = new TreeSet<>();
    final Map<String, Map<PreviewKey, PullRequest>> open = new TreeMap<>();
    final Set<String> unknown = new TreeSet<>();
    final Set<PreviewKey> busy = new HashSet<>();
    final Set<PreviewKey> touched = new HashSet<>();
    boolean redeployMissing;
    boolean suspend;

    FactsBuilder env(Environment e) { environments.put(e.key(), e); return this; }
    FactsBuilder db(PreviewKey key) { databases.add(key); return this; }
    FactsBuilder workspace(PreviewKey key) { workspaces.add(key); return this; }

    FactsBuilder dns(PreviewKey key) {
      String host = key.isPullRequest() ? "pr-" + key.number() + ".preview.example.com" : "main.preview.example.com";
      records.computeIfAbsent(key, k -> new ArrayList<>()).add(new DnsRecord(host, DnsRecord.Type.A, "203.0.113.7", 60, key));
      return this;
    }

    /** The SCM listed {@code repo}: these PRs are open, no other. */
    FactsBuilder open(String repo, PullRequest... prs) {
      Map<PreviewKey, PullRequest> m = open.computeIfAbsent(repo, r -> new LinkedHashMap<>());
      for (PullRequest pr : prs) {
        m.put(pr.key(), pr);
      }
      return this;
    }

    FactsBuilder unknown(String repo) { unknown.add(repo); return this; }
    FactsBuilder busy(PreviewKey key) { busy.add(key); return this; }
    FactsBuilder touched(PreviewKey key) { touched.add(key); return this; }
    FactsBuilder redeployMissing(boolean on) { redeployMissing = on; return this; }
    FactsBuilder suspend(boolean supported) { suspend = supported; return this; }

    Facts build() {
      return new Facts(environments, databases, records, workspaces, open, unknown, busy, touched, NOW,
          redeployMissing, suspend, POLICY, false, false);
    }
  }
}
