package dev.preview.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/** Environments for in-process CLI runs: this JVM's without any CI variable, plus a recorded CI's. */
final class TestEnv {
  private TestEnv() {}

  /** This process's environment without the variables of GitHub Actions or GitLab CI (a CI running these tests sets them). */
  static Map<String, String> withoutCi() {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.keySet().removeIf(k -> k.startsWith("GITHUB_") || k.startsWith("CI_") || k.startsWith("GITLAB_")
        || k.equals("CI") || k.equals("GITLAB_CI"));
    return env;
  }

  /** {@link #withoutCi()} plus the variables of a recorded GitLab CI job ({@code ci/gitlab/NAME.properties}). */
  static Map<String, String> gitlab(String name) {
    Map<String, String> env = withoutCi();
    Properties p = new Properties();
    try (InputStream in = TestEnv.class.getResourceAsStream("/ci/gitlab/" + name + ".properties")) {
      if (in == null) {
        throw new IllegalArgumentException("no recorded GitLab variables ci/gitlab/" + name + ".properties");
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    p.stringPropertyNames().forEach(k -> env.put(k, p.getProperty(k)));
    return env;
  }
}
