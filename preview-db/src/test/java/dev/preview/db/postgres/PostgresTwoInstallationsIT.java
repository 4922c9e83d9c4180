package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.db.TwoInstallationsContract;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.Installation;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;

/** Two installations on one (embedded) PostgreSQL, mode database. */
class PostgresTwoInstallationsIT extends TwoInstallationsContract {
  static PgServer.Admin admin;

  @BeforeAll
  static void server() {
    admin = PgServer.admin();
  }

  @Override
  protected DatabaseProvider provider(Installation installation) {
    return admin.provider().installation(installation).build();
  }

  private static Connection open(DatabaseConnection c) throws SQLException {
    return DriverManager.getConnection(c.url(), c.username(), c.password().reveal());
  }

  @Override
  protected void write(DatabaseConnection c, String text) throws SQLException {
    try (Connection db = open(c)) {
      db.createStatement().execute("CREATE TABLE IF NOT EXISTS notes (text text)");
      try (PreparedStatement ps = db.prepareStatement("INSERT INTO notes (text) VALUES (?)")) {
        ps.setString(1, text);
        ps.executeUpdate();
      }
    }
  }

  @Override
  protected List<String> read(DatabaseConnection c) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection db = open(c); ResultSet rs = db.createStatement().executeQuery("SELECT text FROM notes ORDER BY text")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  @Override
  protected void assertCannotRead(DatabaseConnection mine, DatabaseConnection other) {
    // mine's role has no CONNECT on the other's database (REVOKE ALL .. FROM PUBLIC)
    assertThatThrownBy(() -> DriverManager.getConnection(other.url(), mine.username(), mine.password().reveal()).close())
        .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
  }

  @Override
  protected void assertDropped(DatabaseConnection c) throws SQLException {
    try (Connection db = admin.connect("postgres")) {
      assertThat(PgSql.exists(db, "SELECT 1 FROM pg_database WHERE datname = ?", c.name())).isFalse();
      assertThat(PgSql.exists(db, "SELECT 1 FROM pg_roles WHERE rolname = ?", c.username())).isFalse();
    }
  }
}
