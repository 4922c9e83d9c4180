package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Issue 12, "PR code is hostile", for PostgreSQL: every attack a preview's code can run, run as the
 * preview would, with only its own credentials (the {@link DatabaseConnection} {@code create} handed
 * it), against a real server with the documented minimal admin (LOGIN CREATEDB CREATEROLE). Each
 * test asserts the attack is denied and that the other preview's rows are unchanged. Subclasses pick
 * the server ({@link PostgresAttacks15IT}: Debian's 15 from {@code .ci/servers/postgres.sh},
 * {@link PostgresAttacks18IT}: zonky's 18). The tally (attacks tried, all denied, run time) goes to
 * {@code target/postgres-attacks-<version>.txt}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PostgresAttacks {
  static final String MIGRATIONS = "db/migration";
  static final String V1 = "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance int NOT NULL);\n"
      // main's own SECURITY DEFINER function, built into the baseline by the admin
      + "CREATE FUNCTION definer_whoami() RETURNS text SECURITY DEFINER LANGUAGE sql AS 'SELECT current_user::text';\n";
  static final String B_ROWS = "1:baseline:100,2:B's secret:999";

  final Set<String> denied = new ConcurrentSkipListSet<>();
  /** Statements and logins of the attacks that the server refused (several per attack). */
  final java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
  final String run = UUID.randomUUID().toString().substring(0, 6);
  final String repo = "atk/" + run;
  final List<PreviewKey> made = new ArrayList<>();
  PgAttackServer server;
  Path tmp;
  Path main;
  String baseline;
  String shared;
  PostgresDatabaseProvider dbMode;
  PostgresDatabaseProvider schemaMode;
  long started;
  // mode database: previews A and B; mode schema: SA and SB
  PreviewKey keyA;
  PreviewKey keyB;
  PreviewKey keySa;
  PreviewKey keySb;
  DatabaseConnection a;
  DatabaseConnection b;
  DatabaseConnection sa;
  DatabaseConnection sb;

  abstract PgAttackServer server();

  @BeforeAll
  void twoPreviewsInEachMode() throws Exception {
    started = System.nanoTime();
    server = server();
    tmp = Files.createTempDirectory("pg-attacks");
    main = checkout("main", Map.of("V1__accounts.sql", V1));
    Path seed = Files.writeString(tmp.resolve("seed.sql"), "INSERT INTO accounts VALUES (1, 'baseline', 100);");
    baseline = "atk_base_" + run;
    server.admin().baseline().database(baseline).migrations(List.of("filesystem:" + main.resolve(MIGRATIONS)))
        .seed(List.of(seed)).build().refresh();
    dbMode = server.admin().provider().baseline(baseline).branchMigrations(MIGRATIONS).build();

    shared = "atk_shared_" + run;
    try (Connection c = server.connect("postgres")) {
      PgSql.ddl(c, "CREATE DATABASE %I", shared); // the minimal admin makes (so owns) the shared database
    }
    server.admin().baseline().url(PgUrl.parse(server.url()).withDatabase(shared)).schema("atk_base")
        .migrations(List.of("filesystem:" + main.resolve(MIGRATIONS))).seed(List.of(seed)).build().refresh();
    schemaMode = server.admin().provider().mode(PostgresDatabaseProvider.Mode.SCHEMA).sharedDatabase(shared)
        .baseline("atk_base").branchMigrations(MIGRATIONS).build();

    keyA = key(1);
    keyB = key(2);
    keySa = key(11);
    keySb = key(12);
    a = dbMode.create(keyA, spec(main));
    b = dbMode.create(keyB, spec(main));
    sa = schemaMode.create(keySa, spec(main));
    sb = schemaMode.create(keySb, spec(main));
    for (DatabaseConnection victim : List.of(b, sb)) {
      try (Connection c = open(victim)) {
        exec(c, "INSERT INTO accounts VALUES (2, 'B''s secret', 999)");
      }
    }
    assertVictimsUntouched();
  }

  @AfterAll
  void cleanUpAndTally() throws Exception {
    for (PreviewKey k : made) {
      try {
        (k.number() > 10 ? schemaMode : dbMode).drop(k);
      } catch (RuntimeException e) {
        System.err.println("cleanup of " + k + ": " + e.getMessage());
      }
    }
    try (Connection c = server.connect("postgres")) {
      PgSql.ddl(c, "ALTER DATABASE %I WITH IS_TEMPLATE false", baseline);
      PgSql.ddl(c, "DROP DATABASE IF EXISTS %I WITH (FORCE)", baseline);
      PgSql.ddl(c, "DROP DATABASE IF EXISTS %I WITH (FORCE)", shared);
    }
    long ms = (System.nanoTime() - started) / 1_000_000;
    String report = "PostgreSQL " + server.label() + ": " + denied.size() + " attacks tried, " + denied.size()
        + " denied (" + refused.get() + " statements or logins refused by the server), in " + ms
        + " ms (setup and cleanup included)\n" + String.join("\n", denied) + "\n";
    Files.createDirectories(Path.of("target"));
    Files.writeString(Path.of("target", "postgres-attacks-" + server.label() + ".txt"), report, StandardCharsets.UTF_8);
    System.out.print(report);
  }

  // ---------------------------------------------------------------- mode database: the admin's sessions

  /**
   * Issue 12.1: a schema named after the admin and {@code public}, both holding {@code format(varchar, ..)}
   * and an {@code =(name, varchar)} operator that grant B's role to A, plus {@code ALTER DATABASE ..
   * SET search_path} pointing at them. The trap is armed (it fires for an unqualified call under that
   * path), yet two pushes of A and B never run it: the admin does not enter A's database again.
   */
  @Test
  void searchPathTrojanInTheOwnDatabaseIsNeverRunByTheAdmin() throws Exception {
    try (Connection c = open(a)) {
      exec(c, "CREATE TABLE public.trap_log (who text)");
      exec(c, "GRANT INSERT, SELECT ON public.trap_log TO PUBLIC");
      exec(c, ident("CREATE SCHEMA %s", server.adminUser()));
      exec(c, ident("GRANT USAGE ON SCHEMA %s TO PUBLIC", server.adminUser()));
      for (String schema : List.of(quote(server.adminUser()), "public")) {
        plantTrojans(c, schema, "public");
      }
      exec(c, "ALTER DATABASE " + quote(a.username()) + " SET search_path = " + quote(server.adminUser()) + ", public");
      exec(c, "ALTER ROLE " + quote(a.username()) + " SET search_path = " + quote(server.adminUser()) + ", public");
      // armed: an unqualified call under the planted path runs the trojan
      exec(c, "SET search_path = " + quote(server.adminUser()) + ", public");
      exec(c, "SELECT format('%s'::varchar, 'x'::varchar)");
      assertThat(strings(c, "SELECT who FROM public.trap_log")).containsExactly(a.username());
      exec(c, "DELETE FROM public.trap_log");
    }
    // two pushes without branch migrations: only the admin works on them
    for (int i = 0; i < 2; i++) {
      a = dbMode.create(keyA, DatabaseSpec.empty());
      b = dbMode.create(keyB, DatabaseSpec.empty());
    }
    dbMode.list();
    try (Connection c = open(a)) {
      assertThat(strings(c, "SELECT who FROM public.trap_log")).as("no admin session ran A's code").isEmpty();
      assertThat(isMember(c, a.username(), b.username())).isFalse();
      // A's own Flyway (later tests) would look for its history in the planted schema: A undoes its settings
      exec(c, "ALTER DATABASE " + quote(a.username()) + " RESET search_path");
      exec(c, "ALTER ROLE " + quote(a.username()) + " RESET search_path");
    }
    assertThatThrownBy(() -> DriverManager.getConnection(b.url(), a.username(), a.password().reveal()).close())
        .isInstanceOf(SQLException.class);
    assertVictimsUntouched();
    denied("database: search_path trojan (schema named after the admin, public.format(varchar..), =(name,varchar), ALTER DATABASE/ROLE SET search_path) never run by the admin");
  }

  @Test
  void connectToTheOtherPreviewsDatabase() {
    assertDenied(() -> DriverManager.getConnection(b.url(), a.username(), a.password().reveal()).close());
    assertVictimsUntouched();
    denied("database: connect to B's database");
  }

  @Test
  void connectToTheBaselineTemplate() {
    assertDenied(() -> DriverManager.getConnection(PgUrl.parse(server.url()).withDatabase(baseline), a.username(),
        a.password().reveal()).close());
    denied("database: connect to the baseline template");
  }

  @Test
  void takeTheOtherPreviewsRole() throws Exception {
    try (Connection c = open(a)) {
      assertDenied(() -> exec(c, "SET ROLE " + quote(b.username())));
      assertDenied(() -> exec(c, "GRANT " + quote(b.username()) + " TO " + quote(a.username())));
      assertDenied(() -> exec(c, "ALTER ROLE " + quote(b.username()) + " PASSWORD 'owned'"));
      assertDenied(() -> exec(c, "GRANT CONNECT ON DATABASE " + quote(b.username()) + " TO " + quote(a.username())));
      assertDenied(() -> exec(c, "ALTER DATABASE " + quote(b.username()) + " OWNER TO " + quote(a.username())));
      assertDenied(() -> exec(c, "SET ROLE " + quote(server.adminUser())));
      assertThat(isMember(c, a.username(), b.username())).isFalse();
    }
    assertVictimsUntouched();
    denied("database: SET ROLE B / GRANT B TO A / ALTER ROLE B / GRANT CONNECT on B / ALTER DATABASE B OWNER / SET ROLE admin");
  }

  @Test
  void becomeSomethingMore() throws Exception {
    try (Connection c = open(a)) {
      assertDenied(() -> exec(c, "CREATE ROLE atk_extra LOGIN"));
      assertDenied(() -> exec(c, "CREATE DATABASE atk_extra"));
      assertDenied(() -> exec(c, "ALTER ROLE " + quote(a.username()) + " SUPERUSER"));
      assertDenied(() -> exec(c, "ALTER ROLE " + quote(a.username()) + " CREATEROLE"));
      assertDenied(() -> exec(c, "ALTER ROLE " + quote(a.username()) + " CONNECTION LIMIT -1"));
      assertDenied(() -> exec(c, "COMMENT ON ROLE " + quote(a.username()) + " IS 'preview.dev {}'"));
      assertDenied(() -> exec(c, "ALTER DATABASE " + quote(a.username()) + " RENAME TO " + quote(a.username() + "_x")));
      assertDenied(() -> exec(c, "ALTER DATABASE " + quote(a.username()) + " OWNER TO " + quote(b.username())));
    }
    denied("database: CREATE ROLE / CREATE DATABASE / ALTER ROLE self SUPERUSER, CREATEROLE, CONNECTION LIMIT / COMMENT ON ROLE self (the admin's mark) / RENAME or give away its database");
  }

  /** The baseline's SECURITY DEFINER function was the admin's: in the clone it is the preview's, so it runs as the preview. */
  @Test
  void callTheBaselinesSecurityDefinerFunction() throws Exception {
    try (Connection c = open(a)) {
      assertThat(strings(c, "SELECT definer_whoami()")).containsExactly(a.username());
      assertThat(strings(c, "SELECT pg_get_userbyid(proowner)::text FROM pg_proc WHERE proname = 'definer_whoami'"))
          .containsExactly(a.username());
    }
    try (Connection c = open(sa)) {
      assertDenied(() -> exec(c, "SELECT atk_base.definer_whoami()")); // the baseline schema: no USAGE for PUBLIC
    }
    denied("SECURITY DEFINER function of the baseline: the preview's in its clone (runs as it), out of reach in the baseline schema");
  }

  /** The admin's own database: PUBLIC may connect (PostgreSQL's default), but nothing can be planted there (15+). */
  @Test
  void plantInTheAdminsDatabase() throws Exception {
    try (Connection c = DriverManager.getConnection(PgUrl.parse(server.url()).withDatabase("postgres"), a.username(),
        a.password().reveal())) {
      assertDenied(() -> exec(c, "CREATE FUNCTION public.format(varchar, varchar) RETURNS text LANGUAGE sql AS 'SELECT 1::text'"));
      assertDenied(() -> exec(c, "CREATE SCHEMA " + quote(server.adminUser())));
      assertDenied(() -> exec(c, "CREATE TABLE public.planted (x int)"));
      assertDenied(() -> exec(c, "ALTER DATABASE postgres SET search_path = public"));
    }
    denied("the admin's database: CREATE public.format / CREATE SCHEMA <admin> / CREATE TABLE in public / ALTER DATABASE SET search_path");
  }

  @Test
  void eventTriggersAndServerSideFiles() throws Exception {
    try (Connection c = open(a)) {
      exec(c, "CREATE FUNCTION public.atk_evt() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN NULL; END $$");
      assertDenied(() -> exec(c, "CREATE EVENT TRIGGER atk ON ddl_command_start EXECUTE FUNCTION public.atk_evt()"));
      assertDenied(() -> exec(c, "COPY (SELECT 1) TO PROGRAM 'id'"));
      assertDenied(() -> exec(c, "CREATE TEMP TABLE atk_f (l text); COPY atk_f FROM '/etc/passwd'"));
      assertDenied(() -> exec(c, "SELECT pg_read_file('/etc/passwd')"));
      assertDenied(() -> exec(c, "SELECT pg_ls_dir('.')"));
      assertDenied(() -> exec(c, "SELECT lo_import('/etc/passwd')"));
      assertDenied(() -> exec(c, "ALTER SYSTEM SET log_statement = 'all'"));
      assertDenied(() -> exec(c, "ALTER DATABASE " + quote(a.username()) + " SET session_preload_libraries = 'x'"));
    }
    denied("database: CREATE EVENT TRIGGER / COPY TO PROGRAM / COPY FROM file / pg_read_file / pg_ls_dir / lo_import / ALTER SYSTEM / session_preload_libraries");
  }

  @Test
  void signalOrSpyOnTheOtherPreviewsSessions() throws Exception {
    try (Connection victim = open(b); Connection c = open(a)) {
      exec(victim, "SELECT 'b-secret-query'");
      List<String> pids = strings(c, "SELECT pid::text FROM pg_stat_activity WHERE usename = '" + b.username() + "'");
      assertThat(pids).isNotEmpty();
      assertThat(strings(c, "SELECT coalesce(query, '') FROM pg_stat_activity WHERE usename = '" + b.username() + "'"))
          .noneMatch(q -> q.contains("b-secret-query"));
      assertDenied(() -> exec(c, "SELECT pg_terminate_backend(" + pids.get(0) + ")"));
      assertDenied(() -> exec(c, "SELECT pg_cancel_backend(" + pids.get(0) + ")"));
      assertThat(strings(victim, "SELECT 'still here'")).containsExactly("still here");
    }
    assertVictimsUntouched();
    denied("database: read B's query text in pg_stat_activity / pg_terminate_backend(B) / pg_cancel_backend(B)");
  }

  /** Channels are per database: A's NOTIFY never reaches B's LISTEN in mode database. */
  @Test
  void notifyOnTheOtherPreviewsChannel() throws Exception {
    try (Connection victim = open(b); Connection c = open(a)) {
      exec(victim, "LISTEN orders");
      exec(c, "LISTEN orders");
      exec(c, "NOTIFY orders, 'forged-by-a'");
      exec(victim, "NOTIFY orders, 'marker'"); // B's own, committed after A's: B sees it after anything before
      List<String> seen = notificationsUntil(victim, "marker");
      assertThat(seen).containsExactly("marker");
    }
    denied("database: NOTIFY/LISTEN on B's channel (channels are per database)");
  }

  /** A rewrites the mark on the database it owns to claim another key: list() ignores it. */
  @Test
  void forgeTheOwnershipMarkOnTheOwnDatabase() throws Exception {
    PreviewKey other = PreviewKey.pr(repo, 77);
    String forged = dev.preview.db.internal.OwnerMark.encode(dev.preview.spi.Installation.defaults(), other,
        Map.of(PostgresDatabaseProvider.MODE_LABEL, "database"));
    try (Connection c = open(a)) {
      exec(c, "COMMENT ON DATABASE " + quote(a.username()) + " IS " + literal(forged));
    }
    assertThat(dbMode.list()).doesNotContain(other).contains(keyA, keyB);
    try (Connection c = server.connect("postgres")) { // put the real mark back for the other tests
      PgSql.ddl(c, "COMMENT ON DATABASE %I IS %L", a.username(), dev.preview.db.internal.OwnerMark.encode(
          dev.preview.spi.Installation.defaults(), keyA, Map.of(PostgresDatabaseProvider.MODE_LABEL, "database")));
    }
    denied("database: forged ownership mark on its own database claiming another key (list() ignores it)");
  }

  /**
   * Two keys whose names meet (a cut name's hash collides, or a leftover): the role named for C carries
   * D's full-key mark, so creating C refuses with a clear error instead of adopting D's role.
   */
  @Test
  void adoptAResourceWhoseMarkIsAnotherPreviews() throws Exception {
    PreviewKey c = key(20);
    PreviewKey d = PreviewKey.pr(repo, 21);
    String name = dev.preview.spi.Names.postgres(c);
    try (Connection adm = server.connect("postgres")) {
      PgSql.ddl(adm, "CREATE ROLE %I", name);
      PgSql.ddl(adm, "COMMENT ON ROLE %I IS %L", name, dev.preview.db.internal.OwnerMark.encode(
          dev.preview.spi.Installation.defaults(), d, Map.of(PostgresDatabaseProvider.MODE_LABEL, "database")));
    }
    try {
      assertThatThrownBy(() -> dbMode.create(c, DatabaseSpec.empty())).isInstanceOf(ProviderException.class)
          .hasMessageContaining("belongs to preview " + d).hasMessageContaining("refusing to adopt");
      assertThatThrownBy(() -> dbMode.drop(c)).isInstanceOf(ProviderException.class);
      assertThat(dbMode.list()).doesNotContain(c);
    } finally {
      made.remove(c);
      try (Connection adm = server.connect("postgres")) {
        PgSql.ddl(adm, "DROP ROLE %I", name);
      }
    }
    denied("names: a role under C's name with D's full-key mark is refused (create, drop), never adopted nor listed");
  }

  // ---------------------------------------------------------------- branch migrations (issue 12.2)

  @Test
  void aMigrationGrantsTheOtherPreviewsRole() throws Exception {
    Path pr = checkout("grant-" + UUID.randomUUID(), Map.of("V1__accounts.sql", V1,
        "V2__grant.sql", "GRANT " + quote(b.username()) + " TO " + quote(a.username()) + ";\n"));
    assertThatThrownBy(() -> dbMode.create(keyA, spec(pr))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("V2__grant.sql").hasMessageContaining("SQL state 42501")
        .hasMessageNotContaining(b.username()).hasMessageNotContaining("permission denied");
    a = dbMode.create(keyA, spec(main));
    try (Connection c = open(a)) {
      assertThat(isMember(c, a.username(), b.username())).isFalse();
    }
    assertVictimsUntouched();
    denied("migration: GRANT B's role TO A (runs as A, denied; reason: file + SQL state only)");
  }

  @Test
  void aMigrationRaisesQueryResultsIntoTheReason() throws Exception {
    Path pr = checkout("raise-" + UUID.randomUUID(), Map.of("V1__accounts.sql", V1, "V2__leak.sql", """
        DO $$ BEGIN
          RAISE EXCEPTION 'LEAK session=% admins=%', session_user,
            (SELECT string_agg(rolname, ',') FROM pg_roles WHERE rolcreaterole OR rolsuper);
        END $$;
        """));
    assertThatThrownBy(() -> dbMode.create(keyA, spec(pr))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("V2__leak.sql").hasMessageContaining("P0001")
        .hasMessageNotContaining("LEAK").hasMessageNotContaining(server.adminUser());
    a = dbMode.create(keyA, spec(main));
    denied("migration: RAISE EXCEPTION with query results (the reason names file, SQL state, line; no server text)");
  }

  @Test
  void aMigrationRunsAsThePreviewsOwnRoleAndCannotLeaveIt() throws Exception {
    PreviewKey k = key(3);
    Path pr = checkout("whoami-" + UUID.randomUUID(), Map.of("V1__accounts.sql", V1,
        "V2__whoami.sql", "CREATE TABLE whoami AS SELECT session_user::text AS s, current_user::text AS c;\n"));
    DatabaseConnection c3 = dbMode.create(k, spec(pr));
    try (Connection c = open(c3)) {
      assertThat(strings(c, "SELECT s || ',' || c FROM whoami")).containsExactly(c3.username() + "," + c3.username());
    }
    Files.writeString(pr.resolve(MIGRATIONS).resolve("V3__escape.sql"), "SET ROLE " + quote(server.adminUser()) + ";\n");
    assertThatThrownBy(() -> dbMode.create(k, spec(pr))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("V3__escape.sql").hasMessageContaining("42501");
    assertVictimsUntouched();
    denied("migration: runs as the preview's role (session_user and current_user), SET ROLE admin denied");
  }

  @Test
  void aMigrationReachesForTheOtherPreviewsDatabase() throws Exception {
    Path pr = checkout("connect-" + UUID.randomUUID(), Map.of("V1__accounts.sql", V1,
        "V2__connect.sql", "GRANT CONNECT ON DATABASE " + quote(b.username()) + " TO " + quote(a.username()) + ";\n"
            + "ALTER ROLE " + quote(server.adminUser()) + " PASSWORD 'owned';\n"));
    assertThatThrownBy(() -> dbMode.create(keyA, spec(pr))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("V2__connect.sql").hasMessageContaining("42501");
    a = dbMode.create(keyA, spec(main));
    try (Connection c = server.connect("postgres")) {
      assertThat(c.isValid(5)).as("the admin's password is unchanged").isTrue();
    }
    assertVictimsUntouched();
    denied("migration: GRANT CONNECT on B's database / ALTER ROLE admin PASSWORD");
  }

  // ---------------------------------------------------------------- mode schema (issue 12.7)

  /** A holds the advisory lock the provider used to take, and the provider's lock table is out of its reach. */
  @Test
  void holdTheProvidersLock() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (Connection c = open(sa)) {
      exec(c, "SELECT pg_advisory_lock(hashtext('preview.dev grants " + shared + "'))");
      exec(c, "SELECT pg_advisory_lock(hashtext('preview.dev grants'))");
      c.setAutoCommit(false);
      assertDenied(() -> exec(c, "LOCK TABLE " + PostgresDatabaseProvider.LOCK_SCHEMA + "."
          + PostgresDatabaseProvider.LOCK_TABLE + " IN ACCESS SHARE MODE"));
      c.rollback();
      c.setAutoCommit(true);
      PreviewKey k = key(13);
      Future<DatabaseConnection> f = pool.submit(() -> schemaMode.create(k, spec(main)));
      // the lock A holds is not the provider's: another preview's create finishes (a wait, not a sleep)
      DatabaseConnection made = f.get(60, TimeUnit.SECONDS);
      try (Connection m = open(made)) {
        assertThat(strings(m, "SELECT owner FROM accounts")).containsExactly("baseline");
      }
    } finally {
      pool.shutdownNow();
    }
    assertVictimsUntouched();
    denied("schema: hold the provider's (old) advisory lock / LOCK TABLE of the provider's lock table");
  }

  @Test
  void readOrWriteTheOtherPreviewsSchema() throws Exception {
    String other = quote(sb.username());
    try (Connection c = open(sa)) {
      assertDenied(() -> exec(c, "SELECT * FROM " + other + ".accounts"));
      assertDenied(() -> exec(c, "UPDATE " + other + ".accounts SET balance = 0"));
      assertDenied(() -> exec(c, "CREATE TABLE " + other + ".planted (x int)"));
      assertDenied(() -> exec(c, "CREATE FUNCTION " + other + ".format(varchar, varchar) RETURNS text LANGUAGE sql AS 'SELECT 1::text'"));
      assertDenied(() -> exec(c, "GRANT USAGE ON SCHEMA " + other + " TO " + quote(sa.username())));
      assertDenied(() -> exec(c, "ALTER SCHEMA " + other + " OWNER TO " + quote(sa.username())));
      assertDenied(() -> exec(c, "SET ROLE " + other));
    }
    assertVictimsUntouched();
    denied("schema: SELECT/UPDATE B's table, CREATE in B's schema, GRANT USAGE on it, take it over, SET ROLE B");
  }

  @Test
  void plantObjectsWhereTheOthersResolveNames() throws Exception {
    try (Connection c = open(sa)) {
      assertDenied(() -> exec(c, "CREATE TABLE public.planted (x int)"));
      assertDenied(() -> exec(c, "CREATE FUNCTION public.format(varchar, varchar) RETURNS text LANGUAGE sql AS 'SELECT 1::text'"));
      assertDenied(() -> exec(c, "CREATE SCHEMA " + quote(server.adminUser())));
      assertDenied(() -> exec(c, "CREATE SCHEMA " + PostgresDatabaseProvider.LOCK_SCHEMA + "_x"));
      assertDenied(() -> exec(c, "ALTER ROLE " + quote(sb.username()) + " IN DATABASE " + quote(shared)
          + " SET search_path = " + quote(sa.username())));
      assertDenied(() -> exec(c, "ALTER DATABASE " + quote(shared) + " SET search_path = " + quote(sa.username())));
      assertDenied(() -> exec(c, "ALTER ROLE " + quote(server.adminUser()) + " SET search_path = " + quote(sa.username())));
    }
    assertVictimsUntouched();
    denied("schema: CREATE in the shared database's public, CREATE SCHEMA <admin>, ALTER ROLE B / admin / DATABASE SET search_path");
  }

  /** Trojans in A's own schema (which the admin enters only in the transaction that creates it). */
  @Test
  void searchPathTrojanInTheOwnSchemaIsNeverRunByTheAdmin() throws Exception {
    String own = quote(sa.username());
    try (Connection c = open(sa)) {
      exec(c, "CREATE TABLE " + own + ".trap_log (who text)");
      exec(c, "GRANT INSERT, SELECT ON " + own + ".trap_log TO PUBLIC");
      exec(c, "GRANT USAGE ON SCHEMA " + own + " TO PUBLIC");
      plantTrojans(c, own, own);
      exec(c, "SELECT format('%s'::varchar, 'x'::varchar)"); // armed: its own search_path is its schema
      assertThat(strings(c, "SELECT who FROM trap_log")).containsExactly(sa.username());
      exec(c, "DELETE FROM trap_log");
    }
    sa = schemaMode.create(keySa, spec(main));
    sb = schemaMode.create(keySb, spec(main));
    schemaMode.list();
    try (Connection c = open(sa)) {
      assertThat(strings(c, "SELECT who FROM trap_log")).as("no admin session ran A's code").allMatch(sa.username()::equals);
      assertThat(isMember(c, sa.username(), sb.username())).isFalse();
      exec(c, "REVOKE USAGE ON SCHEMA " + own + " FROM PUBLIC");
    }
    assertVictimsUntouched();
    denied("schema: search_path trojan in its own schema (format(varchar..), =(name,varchar)) never run by the admin");
  }

  @Test
  void aSchemaMigrationGrantsItselfTheOtherSchema() throws Exception {
    Path pr = checkout("sgrant-" + UUID.randomUUID(), Map.of("V1__accounts.sql", V1,
        "V2__grant.sql", "GRANT USAGE ON SCHEMA " + quote(sb.username()) + " TO " + quote(sa.username()) + ";\n"
            + "GRANT SELECT ON " + quote(sb.username()) + ".accounts TO " + quote(sa.username()) + ";\n"));
    assertThatThrownBy(() -> schemaMode.create(keySa, spec(pr))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("V2__grant.sql").hasMessageContaining("42501");
    sa = schemaMode.create(keySa, spec(main));
    try (Connection c = open(sa)) {
      assertDenied(() -> exec(c, "SELECT * FROM " + quote(sb.username()) + ".accounts"));
    }
    assertVictimsUntouched();
    denied("schema migration: GRANT USAGE/SELECT on B's schema to A");
  }

  @Test
  void signalOrSpyOnTheOtherSchemasSessions() throws Exception {
    try (Connection victim = open(sb); Connection c = open(sa)) {
      exec(victim, "SELECT 'sb-secret-query'");
      List<String> pids = strings(c, "SELECT pid::text FROM pg_stat_activity WHERE usename = '" + sb.username() + "'");
      assertThat(pids).isNotEmpty();
      assertThat(strings(c, "SELECT coalesce(query, '') FROM pg_stat_activity WHERE usename = '" + sb.username() + "'"))
          .noneMatch(q -> q.contains("sb-secret-query"));
      assertDenied(() -> exec(c, "SELECT pg_terminate_backend(" + pids.get(0) + ")"));
      assertThat(strings(victim, "SELECT 'still here'")).containsExactly("still here");
    }
    denied("schema: read B's query text / pg_terminate_backend(B)");
  }

  @Test
  void forgeTheOwnershipMarkOnTheOwnSchema() throws Exception {
    PreviewKey other = PreviewKey.pr(repo, 78);
    String forged = dev.preview.db.internal.OwnerMark.encode(dev.preview.spi.Installation.defaults(), other,
        Map.of(PostgresDatabaseProvider.MODE_LABEL, "schema:" + shared));
    try (Connection c = open(sa)) {
      exec(c, "COMMENT ON SCHEMA " + quote(sa.username()) + " IS " + literal(forged));
    }
    assertThat(schemaMode.list()).doesNotContain(other).contains(keySa, keySb);
    try (Connection c = server.connect(shared)) {
      PgSql.ddl(c, "COMMENT ON SCHEMA %I IS %L", sa.username(), dev.preview.db.internal.OwnerMark.encode(
          dev.preview.spi.Installation.defaults(), keySa, Map.of(PostgresDatabaseProvider.MODE_LABEL, "schema:" + shared)));
    }
    denied("schema: forged ownership mark on its own schema claiming another key (list() ignores it)");
  }

  /**
   * A fork PR (anyone's code) gets no database in mode schema, whose previews share channels and
   * advisory locks: refused before anything is made, with the mode that isolates it named.
   */
  @Test
  void aForkPrGetsNoSchemaModeDatabase() throws Exception {
    PreviewKey fork = key(31);
    assertThatThrownBy(() -> schemaMode.create(fork, new DatabaseSpec(null, Map.of(), main, true)))
        .isInstanceOf(dev.preview.spi.ProviderException.class)
        .hasMessageContaining("is a fork PR").hasMessageContaining("LISTEN/NOTIFY").hasMessageContaining("mode: database");
    assertThat(schemaMode.list()).doesNotContain(fork);
    try (Connection c = server.connect(shared)) {
      String name = dev.preview.spi.Names.postgres(dev.preview.spi.Installation.defaults(), fork);
      assertThat(strings(c, "SELECT count(*)::text FROM pg_catalog.pg_roles WHERE rolname = " + literal(name)))
          .as("no role was made").containsExactly("0");
      assertThat(strings(c, "SELECT count(*)::text FROM pg_catalog.pg_namespace WHERE nspname = " + literal(name)))
          .as("no schema was made").containsExactly("0");
    }
    DatabaseConnection inDatabaseMode = dbMode.create(key(9), new DatabaseSpec(null, Map.of(), main, true));
    try (Connection c = open(inDatabaseMode)) {
      assertThat(strings(c, "SELECT current_database()")).as("mode database takes a fork PR, in its own database")
          .containsExactly(inDatabaseMode.name());
    }
    denied("schema: a fork PR's preview in mode schema (shared channels and advisory locks) is refused");
  }

  /**
   * Not an attack that is denied, but what the README says about mode schema: LISTEN/NOTIFY channels
   * (and advisory locks) belong to the database, so previews sharing one share them; no grant can
   * split them. Use mode database for PR code you do not trust.
   */
  @Test
  void schemaModeSharesListenNotifyAsTheReadmeSays() throws Exception {
    try (Connection victim = open(sb); Connection c = open(sa)) {
      exec(victim, "LISTEN orders");
      exec(c, "NOTIFY orders, 'from-a'");
      exec(victim, "NOTIFY orders, 'marker'");
      assertThat(notificationsUntil(victim, "marker")).containsExactly("from-a", "marker");
    }
  }

  // ---------------------------------------------------------------- helpers

  /** A function per arity of format(varchar, ..) and an =(name, varchar) operator that log and grant B to A. */
  void plantTrojans(Connection c, String schema, String logSchema) throws SQLException {
    String grant = "BEGIN EXECUTE pg_catalog.format('GRANT %I TO %I', " + literal(b.username()) + ", " + literal(a.username())
        + "); EXECUTE pg_catalog.format('GRANT %I TO %I', " + literal(sb.username()) + ", " + literal(sa.username())
        + "); EXCEPTION WHEN OTHERS THEN NULL; END;";
    String log = "INSERT INTO " + logSchema + ".trap_log VALUES (session_user);";
    for (int n = 1; n <= 5; n++) {
      List<String> params = new ArrayList<>();
      List<String> args = new ArrayList<>();
      for (int i = 1; i <= n; i++) {
        params.add("varchar");
        args.add("$" + i);
      }
      exec(c, "CREATE FUNCTION " + schema + ".format(" + String.join(", ", params) + ") RETURNS text LANGUAGE plpgsql AS $t$ BEGIN "
          + log + grant + " RETURN pg_catalog.format(" + String.join(", ", args) + "); END $t$");
    }
    exec(c, "CREATE FUNCTION " + schema + ".trap_eq(name, varchar) RETURNS boolean LANGUAGE plpgsql AS $t$ BEGIN "
        + log + grant + " RETURN $1::text OPERATOR(pg_catalog.=) $2::text; END $t$");
    exec(c, "CREATE OPERATOR " + schema + ".= (LEFTARG = name, RIGHTARG = varchar, FUNCTION = " + schema + ".trap_eq)");
  }

  void assertVictimsUntouched() {
    for (DatabaseConnection victim : List.of(b, sb)) {
      try (Connection c = open(victim)) {
        assertThat(String.join(",", strings(c, "SELECT id || ':' || owner || ':' || balance FROM accounts ORDER BY id")))
            .as("the other preview's rows").isEqualTo(B_ROWS);
      } catch (SQLException e) {
        throw new AssertionError(e);
      }
    }
  }

  void denied(String attack) {
    denied.add(attack);
  }

  interface Sql {
    void run() throws Exception;
  }

  void assertDenied(Sql attack) {
    assertThatThrownBy(attack::run).isInstanceOf(SQLException.class)
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).as(e.getMessage()).isIn("42501", "0LP01", "55000"));
    refused.incrementAndGet();
  }

  List<String> notificationsUntil(Connection listener, String last) throws SQLException {
    List<String> seen = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    PGConnection pg = listener.unwrap(PGConnection.class);
    while (!seen.contains(last)) {
      assertThat(System.nanoTime()).as("notification '" + last + "' within 20 s").isLessThan(deadline);
      PGNotification[] ns = pg.getNotifications(500);
      if (ns != null) {
        for (PGNotification n : ns) {
          seen.add(n.getParameter());
        }
      }
    }
    return seen;
  }

  static boolean isMember(Connection c, String member, String role) throws SQLException {
    return strings(c, "SELECT pg_has_role(" + literal(member) + ", " + literal(role) + ", 'MEMBER')::text").equals(List.of("true"));
  }

  PreviewKey key(int n) {
    PreviewKey k = PreviewKey.pr(repo, n);
    made.add(k);
    return k;
  }

  static DatabaseSpec spec(Path checkout) {
    return new DatabaseSpec(null, Map.of(), checkout);
  }

  Path checkout(String name, Map<String, String> migrations) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(name).resolve(MIGRATIONS));
    for (var m : migrations.entrySet()) {
      Files.writeString(dir.resolve(m.getKey()), m.getValue());
    }
    return tmp.resolve(name);
  }

  static Connection open(DatabaseConnection c) throws SQLException {
    return DriverManager.getConnection(c.url(), c.username(), c.password().reveal());
  }

  static void exec(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  static List<String> strings(Connection c, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  static String literal(String value) {
    return "'" + value.replace("'", "''") + "'";
  }

  static String ident(String template, String identifier) {
    return String.format(template, quote(identifier));
  }

}
