package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.core.AppTemplate;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ReconcileReport;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestEvent.Action;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The postgres provider driven by the real orchestrator (environments faked): a preview's database
 * survives a redeploy of its app, disappears at teardown, and an orphan is dropped by reconcile.
 */
class OrchestratorWithPostgresIT {
  final PgServer.Admin admin = PgServer.admin();
  final String repo = "acme/orch-" + UUID.randomUUID().toString().substring(0, 8);
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
  final FakePullRequestSource source = new FakePullRequestSource();
  final PostgresDatabaseProvider db = admin.provider().build();
  PreviewOrchestrator orchestrator;

  @AfterEach
  void close() {
    if (orchestrator != null) {
      orchestrator.close();
    }
    db.list().stream().filter(k -> k.repository().equals(repo)).forEach(db::drop);
  }

  PreviewOrchestrator orchestrator() {
    AppTemplate app = AppTemplate.builder().image("registry.example/shop:latest")
        .readinessTimeout(Duration.ofSeconds(5)).readinessInterval(Duration.ofMillis(10)).build();
    orchestrator = PreviewOrchestrator.builder().environment(env).database(db).pullRequests(source)
        .app(app).policy(PreviewPolicy.builder().build()).healthCheck(url -> true).build();
    return orchestrator;
  }

  static Preview await(java.util.concurrent.CompletableFuture<Preview> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  static Connection connect(EnvironmentSpec spec) throws SQLException {
    return DriverManager.getConnection(spec.env().get("JDBC_DATABASE_URL"), spec.env().get("PGUSER"),
        spec.secrets().get("PGPASSWORD").reveal());
  }

  @Test
  void databaseSurvivesRedeploysAndGoesAtTeardown() throws Exception {
    orchestrator();
    PreviewKey key = PreviewKey.pr(repo, 1);
    PullRequest pr = PullRequest.open(key, "a".repeat(40), "feature", "main");
    source.put(pr);
    Preview first = await(orchestrator.handle(PullRequestEvent.of(Action.OPENED, pr)));
    assertThat(first.state()).isEqualTo(PreviewState.READY);
    EnvironmentSpec spec1 = env.current(key).orElseThrow();
    assertThat(spec1.secrets()).containsKeys("DATABASE_URL", "PGPASSWORD");
    assertThat(spec1.env()).containsKeys("PGHOST", "PGDATABASE").doesNotContainKey("PGPASSWORD");
    try (Connection c = connect(spec1); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE notes (text text)");
      st.execute("INSERT INTO notes VALUES ('written before the push')");
    }

    PullRequest pushed = pr.withHeadSha("b".repeat(40));
    source.put(pushed);
    assertThat(await(orchestrator.handle(PullRequestEvent.of(Action.UPDATED, pushed))).state()).isEqualTo(PreviewState.READY);
    EnvironmentSpec spec2 = env.current(key).orElseThrow();
    assertThat(spec2.revision()).isEqualTo("b".repeat(40));
    try (Connection c = connect(spec2); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT text FROM notes")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("written before the push");
    }
    try (Connection c = admin.connect("postgres")) {
      assertThat(PgSql.one(c, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = ?",
          spec2.env().get("PGDATABASE")).orElseThrow()).contains("\"preview.dev/revision\":\"" + "b".repeat(40) + "\"");
    }

    source.put(pushed.withState(PullRequest.State.MERGED));
    assertThat(await(orchestrator.handle(PullRequestEvent.of(Action.MERGED, pushed.withState(PullRequest.State.MERGED)))).state())
        .isEqualTo(PreviewState.DELETED);
    assertThat(db.list()).doesNotContain(key);
    assertThatThrownBy(() -> connect(spec2).close()).isInstanceOf(SQLException.class);
  }

  @Test
  void reconcileDropsTheDatabaseOfAClosedPr() throws Exception {
    orchestrator();
    PreviewKey open = PreviewKey.pr(repo, 2);
    PreviewKey gone = PreviewKey.pr(repo, 3);
    PullRequest openPr = PullRequest.open(open, "c".repeat(40), "f2", "main");
    source.put(openPr);
    source.put(PullRequest.open(gone, "d".repeat(40), "f3", "main").withState(PullRequest.State.CLOSED));
    await(orchestrator.handle(PullRequestEvent.of(Action.OPENED, openPr)));
    db.create(gone, DatabaseSpec.empty()); // left behind by a crashed teardown

    ReconcileReport report = orchestrator.reconcile(false);

    assertThat(report.actions()).anySatisfy(a -> {
      assertThat(a.key()).isEqualTo(gone);
      assertThat(a.done()).isTrue();
    });
    assertThat(db.list()).contains(open).doesNotContain(gone);
  }
}
