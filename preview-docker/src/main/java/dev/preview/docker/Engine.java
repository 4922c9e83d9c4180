package dev.preview.docker;

import com.github.dockerjava.api.exception.DockerException;
import dev.preview.spi.ProviderException;
import java.io.IOException;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Builds the docker-java client and turns its failures into {@link ProviderException}s that say what to do. */
final class Engine {
  private static final Pattern MESSAGE = Pattern.compile("\\{\"message\":\"(.*)\"}\\s*$", Pattern.DOTALL);

  private final String host;
  private final String hostSource;

  Engine(String host, String hostSource) {
    this.host = host;
    this.hostSource = hostSource;
  }

  /** Runs one engine call; {@code what} says what we were doing, for the message. */
  <T> T call(String what, Supplier<T> op) {
    try {
      return op.get();
    } catch (ProviderException e) {
      throw e;
    } catch (DockerException e) {
      throw failure(what, e);
    } catch (RuntimeException e) {
      if (unreachable(e)) {
        throw unreachableException(e);
      }
      throw new ProviderException(DockerEnvironmentProvider.NAME, what + " failed: " + e, false, e);
    }
  }

  void run(String what, Runnable op) {
    call(what, () -> {
      op.run();
      return null;
    });
  }

  ProviderException failure(String what, DockerException e) {
    int status = e.getHttpStatus();
    return new ProviderException(DockerEnvironmentProvider.NAME,
        what + " failed: " + message(e) + " (HTTP " + status + ")", status >= 500, status, e);
  }

  ProviderException unreachableException(Throwable cause) {
    return new ProviderException(DockerEnvironmentProvider.NAME,
        "the Docker engine is not reachable at " + host + " (taken from " + hostSource + "): "
            + rootMessage(cause) + ". Start dockerd, or point preview at a running engine by setting "
            + "DOCKER_HOST (e.g. DOCKER_HOST=unix:///var/run/docker.sock or tcp://build-host:2376) "
            + "or environment.host in preview.yaml.", true, cause);
  }

  /** The engine's own message, without docker-java's "Status 404: {...}" wrapping. */
  static String message(DockerException e) {
    String m = e.getMessage() == null ? "" : e.getMessage().trim();
    Matcher j = MESSAGE.matcher(m);
    if (j.find()) {
      return j.group(1).replace("\\\"", "\"").replace("\\n", " ");
    }
    return m.replaceFirst("^Status \\d+: ", "");
  }

  static boolean unreachable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof IOException) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
