package dev.preview.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ProviderException;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The provider's client holder (issue 19): built on first use, once, and closed only if it built one. */
class LazyClientTest {
  private final AtomicInteger builds = new AtomicInteger();
  private final AtomicInteger closes = new AtomicInteger();

  /** A KubernetesClient that only counts close(); nothing else is called on it here. */
  private KubernetesClient fakeClient() {
    return (KubernetesClient) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {KubernetesClient.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "close" -> {
            closes.incrementAndGet();
            yield null;
          }
          case "hashCode" -> System.identityHashCode(proxy);
          case "equals" -> proxy == args[0];
          case "toString" -> "fake client";
          default -> throw new UnsupportedOperationException(method.getName());
        });
  }

  private LazyClient building() {
    return LazyClient.building(() -> {
      builds.incrementAndGet();
      return fakeClient();
    });
  }

  @Test
  void nothingIsBuiltUntilTheFirstUseAndCloseThenClosesNothing() {
    LazyClient c = building();
    assertThat(c.built()).isFalse();
    c.close();
    assertThat(builds).hasValue(0);
    assertThat(closes).hasValue(0);
    assertThatThrownBy(c::get).isInstanceOf(ProviderException.class).hasMessageContaining("closed");
    assertThat(builds).as("not built after close either").hasValue(0);
  }

  @Test
  void concurrentFirstUsesBuildOneClientAndCloseClosesItOnce() throws Exception {
    LazyClient c = building();
    int threads = 8;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<KubernetesClient>> got = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        got.add(pool.submit(() -> {
          start.await();
          return c.get();
        }));
      }
      start.countDown();
      Set<KubernetesClient> distinct = ConcurrentHashMap.newKeySet();
      for (Future<KubernetesClient> f : got) {
        distinct.add(f.get(10, TimeUnit.SECONDS));
      }
      assertThat(distinct).hasSize(1);
      assertThat(builds).hasValue(1);
      assertThat(c.built()).isTrue();
    } finally {
      pool.shutdownNow();
    }
    c.close();
    c.close();
    assertThat(closes).as("closed once").hasValue(1);
    assertThat(c.built()).isFalse();
    assertThatThrownBy(c::get).isInstanceOf(ProviderException.class).hasMessageContaining("closed");
    assertThat(builds).hasValue(1);
  }

  @Test
  void aGivenClientIsTheCallersToClose() {
    KubernetesClient given = fakeClient();
    LazyClient c = LazyClient.given(given);
    assertThat(c.built()).isTrue();
    assertThat(c.get()).isSameAs(given);
    c.close();
    assertThat(closes).hasValue(0);
  }
}
