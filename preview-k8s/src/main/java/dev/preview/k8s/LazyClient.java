package dev.preview.k8s;

import dev.preview.spi.ProviderException;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The provider's Fabric8 client, built on first use (issue 19): building one starts Vert.x and an
 * HTTP client, which {@code preview validate} or {@code list} of another provider should not pay
 * for. Thread-safe: concurrent first uses build one client. {@link #close()} closes it only if it
 * was built here, and only once; a use after close is refused.
 */
final class LazyClient implements AutoCloseable {
  private final Supplier<KubernetesClient> build;
  private final boolean owned;
  /** Set once built; null again after {@link #close()}. */
  private volatile KubernetesClient client;
  /** Guarded by this. */
  private boolean closed;

  private LazyClient(Supplier<KubernetesClient> build, boolean owned, KubernetesClient given) {
    this.build = build;
    this.owned = owned;
    this.client = given;
  }

  /** A client the caller built and closes itself. */
  static LazyClient given(KubernetesClient client) {
    Objects.requireNonNull(client, "client");
    return new LazyClient(() -> client, false, client);
  }

  /** A client {@code build} makes on first use, closed by {@link #close()}. */
  static LazyClient building(Supplier<KubernetesClient> build) {
    return new LazyClient(Objects.requireNonNull(build, "build"), true, null);
  }

  KubernetesClient get() {
    KubernetesClient c = client;
    if (c != null) {
      return c;
    }
    synchronized (this) {
      if (closed) {
        throw new ProviderException(KubernetesEnvironmentProvider.NAME, "the kubernetes provider is closed", false);
      }
      if (client == null) {
        client = Objects.requireNonNull(build.get(), "built client");
      }
      return client;
    }
  }

  /** Whether a client exists (given, or built by a first use). */
  boolean built() {
    return client != null;
  }

  @Override
  public void close() {
    KubernetesClient c;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      c = client;
      client = null;
    }
    if (owned && c != null) {
      c.close();
    }
  }
}
