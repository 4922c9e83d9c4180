package dev.preview.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ModelValidationTest {
  static final String SHA = "0123456789abcdef0123456789abcdef01234567";

  @Test
  void database_spec_keeps_its_two_argument_form_and_an_optional_build_context() {
    DatabaseSpec two = new DatabaseSpec("shop_baseline", Map.of("a", "b"));
    assertThat(two.buildContext()).isNull();
    assertThat(two.labels()).containsEntry("a", "b");
    assertThat(DatabaseSpec.empty().buildContext()).isNull();
    DatabaseSpec three = new DatabaseSpec(null, null, Path.of("/checkout"));
    assertThat(three.buildContext()).isEqualTo(Path.of("/checkout"));
    assertThat(three.labels()).isEmpty();
  }

  @Test
  void preview_key_round_trips_through_its_id() {
    PreviewKey pr = PreviewKey.pr("acme/shop", 42);
    PreviewKey branch = PreviewKey.branch("group/sub/app", "feature/x-1");
    assertThat(pr.id()).isEqualTo("acme/shop#42");
    assertThat(branch.id()).isEqualTo("group/sub/app@feature/x-1");
    assertThat(PreviewKey.parse(pr.id())).isEqualTo(pr);
    assertThat(PreviewKey.parse(branch.id())).isEqualTo(branch);
    assertThat(PreviewKey.parse("a/b@feat#1")).isEqualTo(PreviewKey.branch("a/b", "feat#1"));
    assertThat(pr.owner()).isEqualTo("acme");
    assertThat(branch.owner()).isEqualTo("group/sub");
    assertThat(branch.repositoryName()).isEqualTo("app");
  }

  @Test
  void preview_key_rejects_bad_input_with_a_message_that_names_it() {
    assertThatThrownBy(() -> PreviewKey.pr("no-slash", 1)).hasMessageContaining("owner/name").hasMessageContaining("no-slash");
    assertThatThrownBy(() -> PreviewKey.pr("../etc/passwd", 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PreviewKey.pr("a/b;drop", 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PreviewKey.pr("acme/shop", 0)).hasMessageContaining("positive");
    assertThatThrownBy(() -> PreviewKey.branch("acme/shop", "a..b")).hasMessageContaining("branch");
    assertThatThrownBy(() -> PreviewKey.branch("acme/shop", "x\ny")).hasMessageContaining("\\u000a");
    assertThatThrownBy(() -> PreviewKey.parse("acme/shop#x")).hasMessageContaining("not a number");
    assertThatThrownBy(() -> PreviewKey.parse("nothing")).hasMessageContaining("expected");
  }

  @Test
  void pull_request_normalises_and_validates() {
    PullRequest pr = new PullRequest(PreviewKey.pr("a/b", 1), PullRequest.State.OPEN, SHA.toUpperCase(), "f", "main",
        null, null, false, false);
    assertThat(pr.headSha()).isEqualTo(SHA);
    assertThat(pr.labels()).isEmpty();
    assertThat(pr.author()).isEmpty();
    assertThatThrownBy(() -> PullRequest.open(PreviewKey.pr("a/b", 1), "not-a-sha", "f", "main"))
        .hasMessageContaining("hex");
    assertThatThrownBy(() -> PullRequest.open(PreviewKey.pr("a/b", 1), SHA, " ", "main")).hasMessageContaining("headRef");
  }

  @Test
  void closing_events_carry_a_closed_pr_and_other_events_an_open_one() {
    PullRequest open = PullRequest.open(PreviewKey.pr("a/b", 1), SHA, "f", "main");
    assertThat(PullRequestEvent.of(PullRequestEvent.Action.MERGED, open).pullRequest().state())
        .isEqualTo(PullRequest.State.MERGED);
    assertThatThrownBy(() -> PullRequestEvent.of(PullRequestEvent.Action.UPDATED, open.withState(PullRequest.State.CLOSED)))
        .hasMessageContaining("CLOSED");
  }

  @Test
  void environment_spec_reports_every_problem_at_once() {
    EnvironmentSpec.Builder b = EnvironmentSpec.builder(PreviewKey.pr("a/b", 1), SHA)
        .port(70000)
        .healthPath("health")
        .env("1BAD", "x")
        .env("SAME", "x")
        .secret("SAME", Secret.of("y"))
        .hostname("Not_A_Host");
    assertThatThrownBy(b::build)
        .hasMessageContaining("port must be 1-65535")
        .hasMessageContaining("healthPath must start with '/'")
        .hasMessageContaining("\"1BAD\"")
        .hasMessageContaining("both an env var and a secret")
        .hasMessageContaining("Not_A_Host");
  }

  @Test
  void secrets_never_print() {
    EnvironmentSpec spec = EnvironmentSpec.builder(PreviewKey.pr("a/b", 1), SHA)
        .secret("TOKEN", Secret.of("hunter2")).env("PLAIN", "visible").build();
    assertThat(spec.toString()).contains("TOKEN").contains("PLAIN").doesNotContain("hunter2").doesNotContain("visible");
    assertThat(Secret.of("hunter2")).hasToString("******");
    assertThat(Secret.of("hunter2").matches("hunter2")).isTrue();
    assertThat(Secret.of("hunter2").matches("hunter3")).isFalse();
    DatabaseConnection c = new DatabaseConnection("db", "jdbc:x", "u", Secret.of("pw-123"), Map.of(),
        Map.of("DATABASE_URL", Secret.of("postgres://u:pw-123@h/db")));
    assertThat(c.toString()).doesNotContain("pw-123");
  }

  @Test
  void dns_records_are_normalised_and_validated() {
    DnsRecord r = new DnsRecord("PR-1.Preview.Example.com.", DnsRecord.Type.A, "192.0.2.1", 60, PreviewKey.pr("a/b", 1));
    assertThat(r.hostname()).isEqualTo("pr-1.preview.example.com");
    assertThatThrownBy(() -> new DnsRecord("bad host.example.com", DnsRecord.Type.A, "192.0.2.1", 60, PreviewKey.pr("a/b", 1)))
        .hasMessageContaining("not a valid DNS name");
    assertThatThrownBy(() -> new DnsRecord("x.example.com", DnsRecord.Type.A, "example.org", 60, PreviewKey.pr("a/b", 1)))
        .hasMessageContaining("IPv4");
  }

  @Test
  void labels_read_back_keys_and_instants() {
    Map<String, String> labels = Labels.ownership(PreviewKey.pr("a/b", 7), SHA);
    assertThat(Labels.isManaged(labels)).isTrue();
    assertThat(Labels.key(labels)).contains(PreviewKey.pr("a/b", 7));
    assertThat(Labels.key(Map.of(Labels.KEY, "garbage"))).isEmpty();
    assertThat(Labels.instant(Map.of(Labels.CREATED, "2026-01-01T00:00:00Z"), Labels.CREATED)).isPresent();
    assertThat(Labels.instant(Map.of(Labels.CREATED, "yesterday"), Labels.CREATED)).isEmpty();
  }

  @Test
  void resources_parse_kubernetes_style_quantities() {
    assertThat(Resources.parseCpu("500m")).isEqualTo(500);
    assertThat(Resources.parseCpu("1.5")).isEqualTo(1500);
    assertThat(Resources.parseMemory("512Mi")).isEqualTo(512L << 20);
    assertThat(Resources.parseMemory("1G")).isEqualTo(1L << 30);
    assertThatThrownBy(() -> Resources.parseMemory("lots")).hasMessageContaining("512Mi");
  }

  @Test
  void provider_config_reports_all_problems_with_paths_including_unknown_keys() {
    ProviderConfig c = ProviderConfig.of("environment", Map.of(
        "port", "70000", "timeout", "soon", "enabled", "maybe", "imgae", "x", "nested", Map.of("depth", "deep")));
    c.integer("port", 8080, 1, 65535);
    c.duration("timeout", null);
    c.bool("enabled", true);
    c.requiredString("image");
    c.section("nested").integer("depth", 1, 1, 10);
    assertThatThrownBy(c::validate)
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
            "environment.port: must be 1-65535, got 70000",
            "environment.timeout: must be a duration like 30s, 5m, 48h or 7d, got \"soon\"",
            "environment.enabled: must be true or false, got \"maybe\"",
            "environment.image: is required",
            "environment.nested.depth: must be a whole number, got \"deep\"",
            "environment.imgae: unknown key (known here: enabled, image, nested, port, timeout)"));
    assertThat(Set.of(c.toString())).allMatch(s -> !s.contains("70000"));
  }
}
