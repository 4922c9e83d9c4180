package dev.preview.db.mysql;

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

/** Two installations on one MariaDB, sharing its ownership registry. */
class MysqlTwoInstallationsIT extends TwoInstallationsContract {
  @BeforeAll
  static void server() {
    MysqlServer.require();
  }

  @Override
  protected DatabaseProvider provider(Installation installation) {
    return MysqlServer.provider().installation(installation).build();
  }

  private static Connection open(String url, DatabaseConnection credentials) throws SQLException {
    return DriverManager.getConnection(url.replace("jdbc:mysql:", "jdbc:mariadb:"), credentials.username(),
        credentials.password().reveal());
  }

  @Override
  protected void write(DatabaseConnection c, String text) throws SQLException {
    try (Connection db = open(c.url(), c)) {
      db.createStatement().execute("CREATE TABLE IF NOT EXISTS notes (text VARCHAR(100))");
      try (PreparedStatement ps = db.prepareStatement("INSERT INTO notes (text) VALUES (?)")) {
        ps.setString(1, text);
        ps.executeUpdate();
      }
    }
  }

  @Override
  protected List<String> read(DatabaseConnection c) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection db = open(c.url(), c); ResultSet rs = db.createStatement().executeQuery("SELECT text FROM notes ORDER BY text")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  @Override
  protected void assertCannotRead(DatabaseConnection mine, DatabaseConnection other) {
    assertThatThrownBy(() -> open(other.url(), mine).close())
        .isInstanceOf(SQLException.class).hasMessageContaining("Access denied");
  }

  @Override
  protected void assertDropped(DatabaseConnection c) throws SQLException {
    try (Connection admin = MysqlServer.connect();
         PreparedStatement ps = admin.prepareStatement("SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")) {
      ps.setString(1, c.name());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        assertThat(rs.getInt(1)).isZero();
      }
    }
    assertThatThrownBy(() -> open(c.url(), c).close()).isInstanceOf(SQLException.class);
  }
}
