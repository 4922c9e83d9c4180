package dev.preview.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.preview.core.policy.Admission.Decision;
import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class PreviewPolicyTest {
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);
  static final PullRequest PR = PullRequest.open(KEY, "abc123", "feature/checkout", "main");
  static final Instant T0 = Instant.parse("2026-11-01T10:00:00Z");

  static PullRequest pr(String head, String base, String... labels) {
    return PullRequest.open(KEY, "abc123", head, base).withLabels(Set.of(labels));
  }

  @Nested
  class Admission_ {
    @Test
    void theDefaultsDeployAnOrdinaryPrWithSecrets() {
      Admission a = PreviewPolicy.defaults().admit(PR, 100);

      assertThat(a.decision()).isEqualTo(Decision.DEPLOY);
      assertThat(a.secretsAllowed()).isTrue();
      assertThat(a.reason()).isEmpty();
    }

    @Test
    void closedAndMergedPrsAreSkipped() {
      assertThat(PreviewPolicy.defaults().admit(PR.withState(PullRequest.State.CLOSED), 0).decision()).isEqualTo(Decision.SKIP);
      assertThat(PreviewPolicy.defaults().admit(PR.withState(PullRequest.State.MERGED), 0).reason()).contains("merged");
    }

    @Test
    void draftsAreSkippedUnlessAllowed() {
      PullRequest draft = PR.withDraft(true);

      Admission skipped = PreviewPolicy.defaults().admit(draft, 0);
      assertThat(skipped.decision()).isEqualTo(Decision.SKIP);
      assertThat(skipped.reason()).contains("draft").contains("policy.drafts");
      assertThat(PreviewPolicy.builder().drafts(true).build().admit(draft, 0).decision()).isEqualTo(Decision.DEPLOY);
    }

    @Test
    void headBranchGlobsStarStaysInOneSegmentDoubleStarCrossesThem() {
      PreviewPolicy p = PreviewPolicy.builder().branches(List.of("feature/*", "fix-?", "team/**")).build();

      assertThat(p.admit(pr("feature/checkout", "main"), 0).decision()).isEqualTo(Decision.DEPLOY);
      assertThat(p.admit(pr("feature/a/b", "main"), 0).decision()).isEqualTo(Decision.SKIP);
      assertThat(p.admit(pr("fix-1", "main"), 0).decision()).isEqualTo(Decision.DEPLOY);
      assertThat(p.admit(pr("fix-12", "main"), 0).decision()).isEqualTo(Decision.SKIP);
      assertThat(p.admit(pr("team/x/y/z", "main"), 0).decision()).isEqualTo(Decision.DEPLOY);
      Admission skipped = p.admit(pr("hotfix", "main"), 0);
      assertThat(skipped.decision()).isEqualTo(Decision.SKIP);
      assertThat(skipped.reason()).contains("branch hotfix matches none of policy.branches");
      assertThat(PreviewPolicy.builder().branches(List.of("**")).build().admit(pr("a/b/c", "main"), 0).decision())
          .isEqualTo(Decision.DEPLOY);
    }

    @Test
    void globCharactersOfRegexAreLiteral() {
      PreviewPolicy p = PreviewPolicy.builder().branches(List.of("v1.0+[x]")).build();

      assertThat(p.admit(pr("v1.0+[x]", "main"), 0).decision()).isEqualTo(Decision.DEPLOY);
      assertThat(p.admit(pr("v1x0+x", "main"), 0).decision()).isEqualTo(Decision.SKIP);
    }

    @Test
    void targetBranchGlobs() {
      PreviewPolicy p = PreviewPolicy.builder().targets(List.of("main", "release/*")).build();

      assertThat(p.admit(pr("f", "main"), 0).decision()).isEqualTo(Decision.DEPLOY);
      assertThat(p.admit(pr("f", "release/2.0"), 0).decision()).isEqualTo(Decision.DEPLOY);
      Admission skipped = p.admit(pr("f", "develop"), 0);
      assertThat(skipped.decision()).isEqualTo(Decision.SKIP);
      assertThat(skipped.reason()).contains("target branch develop");
    }

    @Test
    void requiredLabelsMustAllBeThere() {
      PreviewPolicy p = PreviewPolicy.builder().requireLabels(Set.of("preview", "qa")).build();

      assertThat(p.admit(pr("f", "main", "preview"), 0).decision()).isEqualTo(Decision.SKIP);
      assertThat(p.admit(pr("f", "main", "preview"), 0).reason()).contains("needs the label \"qa\"");
      assertThat(p.admit(pr("f", "main", "preview", "qa", "other"), 0).decision()).isEqualTo(Decision.DEPLOY);
    }

    @Test
    void anExcludedLabelWinsOverEverything() {
      PreviewPolicy p = PreviewPolicy.builder().requireLabels(Set.of("preview")).excludeLabels(Set.of("no-preview")).build();

      Admission a = p.admit(pr("f", "main", "preview", "no-preview"), 0);
      assertThat(a.decision()).isEqualTo(Decision.SKIP);
      assertThat(a.reason()).contains("no-preview");
    }

    @Test
    void forksDenied() {
      PreviewPolicy p = PreviewPolicy.builder().forks(ForkMode.DENY).build();

      Admission a = p.admit(PR.withFromFork(true).withLabels(Set.of("preview:fork-ok")), 0);
      assertThat(a.decision()).isEqualTo(Decision.SKIP);
      assertThat(a.reason()).contains("policy.forks: deny");
      assertThat(p.admit(PR, 0).decision()).isEqualTo(Decision.DEPLOY);
    }

    @Test
    void forksWithoutSecretsByDefaultAndWithThemWhenForkSecretsIsSet() {
      PullRequest fork = PR.withFromFork(true);

      Admission noSecrets = PreviewPolicy.builder().forks(ForkMode.NO_SECRETS).build().admit(fork, 0);
      assertThat(noSecrets.decision()).isEqualTo(Decision.DEPLOY);
      assertThat(noSecrets.secretsAllowed()).isFalse();
      assertThat(noSecrets.reason()).contains("without secrets");

      Admission secrets = PreviewPolicy.builder().forks(ForkMode.NO_SECRETS).forkSecrets(true).build().admit(fork, 0);
      assertThat(secrets.decision()).isEqualTo(Decision.DEPLOY);
      assertThat(secrets.secretsAllowed()).isTrue();
      assertThat(PreviewPolicy.defaults().forkMode()).isEqualTo(ForkMode.NO_SECRETS);
    }

    @Test
    void forksNeedingALabel() {
      PreviewPolicy p = PreviewPolicy.builder().forks(ForkMode.REQUIRE_LABEL).forkLabel("safe-to-test").build();
      PullRequest fork = PR.withFromFork(true);

      Admission without = p.admit(fork, 0);
      assertThat(without.decision()).isEqualTo(Decision.SKIP);
      assertThat(without.reason()).contains("safe-to-test");
      assertThat(p.admit(fork.withLabels(Set.of("preview:fork-ok")), 0).decision()).isEqualTo(Decision.SKIP);

      Admission with = p.admit(fork.withLabels(Set.of("safe-to-test")), 0);
      assertThat(with.decision()).isEqualTo(Decision.DEPLOY);
      assertThat(with.secretsAllowed()).isFalse();

      Admission withSecrets = PreviewPolicy.builder().forks(ForkMode.REQUIRE_LABEL).forkSecrets(true).build()
          .admit(fork.withLabels(Set.of("preview:fork-ok")), 0);
      assertThat(withSecrets.decision()).isEqualTo(Decision.DEPLOY);
      assertThat(withSecrets.secretsAllowed()).isTrue();
      assertThat(p.admit(PR, 0).secretsAllowed()).as("not a fork").isTrue();
    }

    @Test
    void maxConcurrentQueuesOnlyWhenEverySlotIsTaken() {
      PreviewPolicy p = PreviewPolicy.builder().maxConcurrent(2).build();

      assertThat(p.admit(PR, 1).decision()).isEqualTo(Decision.DEPLOY);
      Admission queued = p.admit(PR, 2);
      assertThat(queued.decision()).isEqualTo(Decision.QUEUE);
      assertThat(queued.reason()).contains("all 2 preview slots are in use");
      assertThat(p.admit(PR.withDraft(true), 5).decision()).as("a skip is not a queue").isEqualTo(Decision.SKIP);
      assertThat(PreviewPolicy.builder().maxConcurrent(0).build().admit(PR, 10_000).decision())
          .as("0 is no limit").isEqualTo(Decision.DEPLOY);
    }

    @Test
    void invalidSettingsAreRefusedAllAtOnce() {
      assertThatThrownBy(() -> PreviewPolicy.builder().maxConcurrent(-1).ttl(Duration.ZERO)
          .idleTimeout(Duration.ofHours(-1)).flag("bad flag", true).build())
          .isInstanceOf(dev.preview.spi.ConfigurationException.class)
          .hasMessageContaining("maxConcurrent").hasMessageContaining("ttl").hasMessageContaining("idleTimeout")
          .hasMessageContaining("bad flag");
    }
  }

  @Nested
  class Lifetime {
    final PreviewPolicy policy = PreviewPolicy.builder()
        .ttl(Duration.ofHours(72)).idleTimeout(Duration.ofHours(48)).maxAge(Duration.ofDays(14))
        .sleepAfter(Duration.ofHours(2)).build();

    Environment deployed(Optional<Environment> before, PullRequest pr, Instant at, Environment.Phase phase) {
      return new Environment(KEY, pr.headSha(), URI.create("http://x"), phase, policy.lifecycleLabels(before, pr, at));
    }

    Environment deployed(Instant at) {
      return deployed(Optional.empty(), PR, at, Environment.Phase.RUNNING);
    }

    @Test
    void lifecycleLabelsRecordCreationActivityAndExpiry() {
      Map<String, String> labels = policy.lifecycleLabels(Optional.empty(), PR, T0);

      assertThat(labels).containsEntry(Labels.CREATED, "2026-11-01T10:00:00Z")
          .containsEntry(Labels.LAST_ACTIVITY, "2026-11-01T10:00:00Z")
          .containsEntry(Labels.EXPIRES, "2026-11-04T10:00:00Z")
          .doesNotContainKey(Labels.PINNED);
      assertThat(PreviewPolicy.defaults().lifecycleLabels(Optional.empty(), PR, T0)).doesNotContainKey(Labels.EXPIRES);
    }

    @Test
    void aFreshPreviewIsKept() {
      assertThat(policy.evaluate(deployed(T0), PR.labels(), T0.plusSeconds(60))).isEqualTo(Verdict.KEEP);
    }

    @Test
    void sleepAfterScalesARunningPreviewToZeroButNotASuspendedOne() {
      Environment env = deployed(T0);

      Verdict v = policy.evaluate(env, Set.of(), T0.plus(Duration.ofHours(3)));
      assertThat(v.action()).isEqualTo(Verdict.Action.SLEEP);
      assertThat(v.reason()).contains("idle for more than 2h");
      assertThat(policy.evaluate(env, Set.of(), T0.plus(Duration.ofMinutes(119))).action()).isEqualTo(Verdict.Action.KEEP);
      Environment suspended = deployed(Optional.empty(), PR, T0, Environment.Phase.SUSPENDED);
      assertThat(policy.evaluate(suspended, Set.of(), T0.plus(Duration.ofHours(3))).action()).isEqualTo(Verdict.Action.KEEP);
    }

    @Test
    void idleTimeoutDeletesAfterNoActivity() {
      Verdict v = policy.evaluate(deployed(T0), Set.of(), T0.plus(Duration.ofHours(49)));

      assertThat(v.action()).isEqualTo(Verdict.Action.EXPIRE);
      assertThat(v.reason()).contains("idle for more than 48h");
    }

    @Test
    void theTtlRunsOutWithoutAPushAndAPushExtendsIt() {
      PreviewPolicy ttlOnly = PreviewPolicy.builder().ttl(Duration.ofHours(72)).build();
      Environment first = new Environment(KEY, "abc123", null, Environment.Phase.RUNNING,
          ttlOnly.lifecycleLabels(Optional.empty(), PR, T0));

      assertThat(ttlOnly.evaluate(first, Set.of(), T0.plus(Duration.ofHours(71))).action()).isEqualTo(Verdict.Action.KEEP);
      Verdict expired = ttlOnly.evaluate(first, Set.of(), T0.plus(Duration.ofHours(73)));
      assertThat(expired.action()).isEqualTo(Verdict.Action.EXPIRE);
      assertThat(expired.reason()).contains("TTL ran out at 2026-11-04T10:00:00Z");

      Instant push = T0.plus(Duration.ofHours(70));
      Environment pushed = new Environment(KEY, "def456", null, Environment.Phase.RUNNING,
          ttlOnly.lifecycleLabels(Optional.of(first), PR.withHeadSha("def456"), push));
      assertThat(pushed.created()).contains(T0);
      assertThat(pushed.expires()).contains(push.plus(Duration.ofHours(72)));
      assertThat(ttlOnly.evaluate(pushed, Set.of(), T0.plus(Duration.ofHours(73))).action()).isEqualTo(Verdict.Action.KEEP);
      assertThat(ttlOnly.evaluate(pushed, Set.of(), push.plus(Duration.ofHours(73))).action()).isEqualTo(Verdict.Action.EXPIRE);
    }

    @Test
    void maxAgeDeletesWhateverTheActivity() {
      Environment env = deployed(T0);
      Instant at = T0;
      for (int day = 1; day <= 15; day++) {
        at = T0.plus(Duration.ofDays(day));
        env = deployed(Optional.of(env), PR.withHeadSha(String.format("%040x", day)), at, Environment.Phase.RUNNING); // a push a day
      }
      assertThat(env.created()).contains(T0);

      Verdict v = policy.evaluate(env, Set.of(), at.plusSeconds(60));
      assertThat(v.action()).isEqualTo(Verdict.Action.EXPIRE);
      assertThat(v.reason()).contains("older than policy.maxAge 336h");
      assertThat(policy.evaluate(env, Set.of(), T0.plus(Duration.ofDays(13))).action()).isEqualTo(Verdict.Action.KEEP);
    }

    @Test
    void thePinLabelExemptsFromEveryRule() {
      PullRequest pinned = PR.withLabels(Set.of("preview:pin"));
      Environment env = deployed(Optional.empty(), pinned, T0, Environment.Phase.RUNNING);
      Instant muchLater = T0.plus(Duration.ofDays(60));

      assertThat(env.labels()).containsEntry(Labels.PINNED, "true");
      assertThat(policy.evaluate(env, pinned.labels(), muchLater)).isEqualTo(Verdict.KEEP);
      assertThat(policy.evaluate(env, null, muchLater)).as("PR unknown: the label on the resource counts").isEqualTo(Verdict.KEEP);
      assertThat(policy.evaluate(env, Set.of(), muchLater).action()).as("pin label removed from the PR")
          .isEqualTo(Verdict.Action.EXPIRE);
      assertThat(policy.evaluate(deployed(T0), null, muchLater).action()).isEqualTo(Verdict.Action.EXPIRE);
      assertThat(PreviewPolicy.builder().pinLabel(null).build().pinned(Set.of("preview:pin"))).isFalse();
    }

    @Test
    void withoutRulesNothingExpires() {
      assertThat(PreviewPolicy.defaults().evaluate(deployed(T0), Set.of(), T0.plus(Duration.ofDays(3650))))
          .isEqualTo(Verdict.KEEP);
    }
  }

  @Nested
  class Flags {
    final PreviewPolicy policy = PreviewPolicy.builder().flag("new-checkout", true).flag("dark-mode", false).build();

    @Test
    void configFlagsApplyWithoutLabels() {
      assertThat(policy.flags(PR)).containsExactly(Map.entry("dark-mode", false), Map.entry("new-checkout", true));
    }

    @Test
    void labelsTurnFlagsOnAndOff() {
      PullRequest pr = PR.withLabels(Set.of("flag:dark-mode", "flag:new-checkout=off", "flag:!beta", "flag:gamma=on",
          "bug", "flag:", "flag:bad name"));

      assertThat(policy.flags(pr)).containsExactly(
          Map.entry("beta", false), Map.entry("dark-mode", true), Map.entry("gamma", true), Map.entry("new-checkout", false));
    }

    @Test
    void aLabelOverridesAConfiguredFlagWhateverItsCase() {
      PullRequest pr = PR.withLabels(Set.of("flag:New-Checkout=off"));

      assertThat(policy.flags(pr)).containsExactly(Map.entry("dark-mode", false), Map.entry("new-checkout", false));
      assertThat(PreviewPolicy.flagEnv(policy.flags(pr))).containsEntry("FEATURE_NEW_CHECKOUT", "false");
    }

    @Test
    void flagsReachTheAppAsFeatureVariablesAndJson() throws Exception {
      Map<String, String> env = PreviewPolicy.flagEnv(policy.flags(PR.withLabels(Set.of("flag:x.y"))));

      assertThat(env).containsEntry("FEATURE_NEW_CHECKOUT", "true").containsEntry("FEATURE_DARK_MODE", "false")
          .containsEntry("FEATURE_X_Y", "true");
      assertThat(new ObjectMapper().readValue(env.get("PREVIEW_FLAGS"), Map.class))
          .isEqualTo(Map.of("new-checkout", true, "dark-mode", false, "x.y", true));
      assertThat(PreviewPolicy.flagEnv(Map.of())).containsExactly(Map.entry("PREVIEW_FLAGS", "{}"));
    }
  }
}
