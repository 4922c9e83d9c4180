package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code preview serve} with a {@code dashboard} section: the dashboard, its API and PR comment commands. */
class ServeCommandDashboardTest {
  static final String TOKEN = "dashboard-admin-token-0123456789";
  @TempDir Path dir;
  final HttpClient client = HttpClient.newHttpClient();

  Path config(String... dashboard) throws Exception {
    java.util.List<String> lines = new java.util.ArrayList<>(java.util.List.of("dashboard:"));
    for (String line : dashboard) {
      lines.add("  " + line);
    }
    return ServeConfigs.write(dir, java.util.List.of(), lines.toArray(String[]::new));
  }

  private HttpResponse<String> get(java.net.URI uri, String token) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(uri);
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    return client.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theDashboardAndItsApiAreServedBehindTheirToken() throws Exception {
    ServeCommand cmd = CommandLine.populateCommand(new ServeCommand(), "--config", config("adminToken: " + TOKEN).toString(),
        "--port", "0", "--bind", "127.0.0.1", "--reconcile-interval", "0");
    try (ServeCommand.Running running = cmd.start()) {
      assertThat(running.dashboard()).isTrue();
      assertThat(running.commands()).as("scm.provider github: /preview commands on").isTrue();
      var base = running.server().url();
      assertThat(get(base.resolve("/api/previews"), null).statusCode()).isEqualTo(401);
      HttpResponse<String> api = get(base.resolve("/api/previews"), TOKEN);
      assertThat(api.statusCode()).isEqualTo(200);
      assertThat(api.body()).isEqualTo("[]");
      assertThat(get(base.resolve("/ui/"), null).statusCode()).as("to the login form").isEqualTo(303);
      assertThat(get(base.resolve("/ui/login"), null).body()).contains("<form method=\"post\" action=\"/ui/login\"");
    }
  }

  @Test
  void noDashboardOptionOrSectionMeansNoEndpoints() throws Exception {
    ServeCommand cmd = CommandLine.populateCommand(new ServeCommand(), "--config", config("adminToken: " + TOKEN).toString(),
        "--port", "0", "--bind", "127.0.0.1", "--reconcile-interval", "0", "--no-dashboard", "--no-commands");
    try (ServeCommand.Running running = cmd.start()) {
      assertThat(running.dashboard()).isFalse();
      assertThat(running.commands()).isFalse();
      assertThat(get(running.server().url().resolve("/api/previews"), TOKEN).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void aWrongDashboardSectionIsReportedWithTheOtherProblems() throws Exception {
    StringWriter err = new StringWriter();
    CommandLine line = new CommandLine(new ServeCommand());
    line.setErr(new PrintWriter(err, true));
    int code = line.execute("--config", config("adminToken: tooshort", "refresh: 0s").toString(), "--port", "0",
        "--threads", "0");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("dashboard.adminToken: must be at least 16 characters", "dashboard.refresh: must be between",
        "--threads: must be at least 1").doesNotContain("tooshort");
  }
}
