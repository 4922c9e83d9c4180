package dev.preview.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.testkit.Servers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Shared by the ITs: the engine (skip locally / fail in CI when absent), the busybox test image
 * built FROM scratch (no registry is reachable), providers with test-friendly settings, HTTP probes.
 */
final class TestDocker {
  /** busybox httpd serving /www on 8080; /cgi-bin/env prints its env, /cgi-bin/fetch?host:port/path fetches from inside. */
  static final String IMAGE = "preview-docker-it/httpd:2";
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static volatile DockerClient client;

  private TestDocker() {}

  /** The engine's client, after {@link Servers#require}; builds the test image once. */
  static synchronized DockerClient engine() {
    if (client == null) {
      DockerSettings s = DockerSettings.from(ProviderConfig.empty("environment"));
      DockerClient c = EngineClient.build(s);
      boolean up;
      try {
        c.pingCmd().exec();
        up = true;
      } catch (RuntimeException e) {
        up = false;
      }
      Servers.require("Docker engine at " + s.host, up, "bash .ci/servers/docker.sh (apt-get install docker.io busybox-static; dockerd &)");
      Servers.require("/bin/busybox (a static build, for the test image)", Files.isRegularFile(Path.of("/bin/busybox")),
          "apt-get install busybox-static");
      buildImage(c);
      client = c;
    }
    return client;
  }

  private static void buildImage(DockerClient c) {
    try {
      c.inspectImageCmd(IMAGE).exec();
      return;
    } catch (NotFoundException e) {
      // build it below
    }
    Path dir = null;
    try {
      dir = Files.createTempDirectory("preview-docker-it");
      writeContext(dir, "");
      c.buildImageCmd().withBaseDirectory(dir.toFile()).withDockerfile(dir.resolve("Dockerfile").toFile())
          .withTags(Set.of(IMAGE)).exec(new BuildImageResultCallback()).awaitImageId();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteTree(dir);
    }
  }

  /** Writes a build context for the test image into {@code dir}; {@code extra} is appended to the Dockerfile. */
  static void writeContext(Path dir, String extra) throws IOException {
    Files.copy(Path.of("/bin/busybox"), dir.resolve("busybox"));
    Path www = Files.createDirectories(dir.resolve("www/cgi-bin"));
    Files.writeString(dir.resolve("www/health"), "ok\n");
    Files.writeString(dir.resolve("www/index.html"), "hello from the test app\n");
    Files.createDirectories(dir.resolve("www/data"));
    script(www.resolve("env"), "echo \"Content-Type: text/plain\"\necho\n/bin/busybox env\n");
    // Static busybox cannot resolve names through glibc (no NSS in the image), but its nslookup
    // speaks DNS itself: resolve with it, then fetch by address.
    script(www.resolve("fetch"), String.join("\n",
        "echo \"Content-Type: text/plain\"",
        "echo",
        "host=\"${QUERY_STRING%%:*}\"",
        "rest=\"${QUERY_STRING#*:}\"",
        "case \"$host\" in",
        "  *[!0-9.]*) ip=$(/bin/busybox nslookup \"$host\" 2>/dev/null | /bin/busybox awk '/^Name:/{n=1} n&&/^Address/{print $2; exit}');;",
        "  *) ip=\"$host\";;",
        "esac",
        "if [ -z \"$ip\" ]; then echo \"UNRESOLVED $host\"; exit 0; fi",
        "port=\"${rest%%/*}\"",
        "path=\"/${rest#*/}\"",
        // busybox wget crashes without NSS even for addresses; nc does not
        "out=$(printf 'GET %s HTTP/1.0\\r\\n\\r\\n' \"$path\" | /bin/busybox nc -w 2 \"$ip\" \"$port\" 2>/dev/null)",
        "case \"$out\" in",
        "  HTTP/*) printf '%s\\n' \"$out\" | /bin/busybox awk 'b{print} /^\\r?$/{b=1}';;",
        "  *) echo \"UNREACHABLE $ip\";;",
        "esac",
        ""));
    Files.writeString(dir.resolve("Dockerfile"), String.join("\n",
        "FROM scratch",
        "COPY busybox /bin/busybox",
        "COPY www /www",
        "ENTRYPOINT [\"/bin/busybox\", \"sh\", \"-c\", \"echo app starting; exec /bin/busybox httpd -f -vv -p 8080 -h /www\"]",
        extra,
        ""));
  }

  private static void script(Path p, String body) throws IOException {
    Files.writeString(p, "#!/bin/busybox sh\n" + body);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  static void deleteTree(Path dir) {
    if (dir == null) {
      return;
    }
    try (var s = Files.walk(dir)) {
      s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // temp files; best effort
    }
  }

  /** Settings every IT uses, plus {@code extra}: no stop grace period (busybox ignores SIGTERM). */
  static DockerEnvironmentProvider provider(Map<String, ?> extra) {
    return provider(extra, Installation.defaults());
  }

  /** The same, for a provider of {@code installation}; each call builds a new client (as a restart would). */
  static DockerEnvironmentProvider provider(Map<String, ?> extra, Installation installation) {
    engine();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("stopTimeout", "0s");
    m.put("pull", "never");
    m.putAll(extra);
    return DockerEnvironmentProvider.create(ProviderContext.of(ProviderConfig.of("environment", m), installation));
  }

  static Map<String, Object> cacheService() {
    return Map.of("services", Map.of("cache", Map.of("image", IMAGE, "volumes", List.of("/www/data"))));
  }

  /** GET {@code uri}; status and body, or status -1 when nothing answers. */
  static Response get(URI uri) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.body());
    } catch (IOException e) {
      return new Response(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Response(-1, "interrupted");
    }
  }

  record Response(int status, String body) {}

  static List<Container> labelled(String label, String value) {
    return engine().listContainersCmd().withShowAll(true).withLabelFilter(Map.of(label, value)).exec();
  }

  /** Everything carrying {@code preview.dev/key=<id>}: containers, networks, volumes (as docker ps -a / network ls / volume ls --filter label=... would show). */
  static List<String> leftovers(String keyId) {
    DockerClient d = engine();
    String filter = Labels.KEY + "=" + keyId;
    List<String> out = new java.util.ArrayList<>();
    d.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(Labels.KEY, keyId)).exec()
        .forEach(c -> out.add("container " + List.of(c.getNames())));
    d.listNetworksCmd().withFilter("label", List.of(filter)).exec().forEach(n -> out.add("network " + n.getName()));
    var vols = d.listVolumesCmd().withFilter("label", List.of(filter)).exec().getVolumes();
    if (vols != null) {
      vols.forEach(v -> out.add("volume " + v.getName()));
    }
    return out;
  }
}
