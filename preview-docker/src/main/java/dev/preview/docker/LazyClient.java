package dev.preview.docker;

import com.github.dockerjava.api.DockerClient;
import java.io.IOException;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The docker-java client, built on the first call of {@link #get()} (once, whichever thread asks
 * first). Building it loads docker-java, Jackson and HttpClient 5 (about a second of a CLI's
 * start-up), which {@code preview validate}, {@code --help} and a provider that is never called need
 * not pay.
 */
final class LazyClient {
  private final Supplier<DockerClient> factory;
  private volatile DockerClient client;

  LazyClient(Supplier<DockerClient> factory) {
    this.factory = Objects.requireNonNull(factory, "factory");
  }

  DockerClient get() {
    DockerClient c = client;
    if (c == null) {
      synchronized (this) {
        c = client;
        if (c == null) {
          c = Objects.requireNonNull(factory.get(), "the docker client factory returned null");
          client = c;
        }
      }
    }
    return c;
  }

  /** Whether {@link #get()} has built the client. */
  boolean built() {
    return client != null;
  }

  /** Closes the client if it was built; never builds one to close it. */
  void closeIfBuilt() throws IOException {
    DockerClient c = client;
    if (c != null) {
      c.close();
    }
  }
}
