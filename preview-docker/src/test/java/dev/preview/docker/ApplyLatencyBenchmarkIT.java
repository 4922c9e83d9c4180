package dev.preview.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Ports;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Time from {@code apply} to the first HTTP 200 of the app, against raw docker-java
 * create + start + poll of the same image, measured in the same run (interleaved), median of 20.
 * Not part of the normal build; run it with:
 *
 * <pre>
 * mvn -B -q -pl preview-docker -am verify -Dit.test=ApplyLatencyBenchmarkIT -Dpreview.benchmark=true \
 *     -Dfailsafe.failIfNoSpecifiedTests=false -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * The figures are printed and written to {@code preview-docker/target/apply-latency.txt}.
 */
@EnabledIfSystemProperty(named = "preview.benchmark", matches = "true")
class ApplyLatencyBenchmarkIT {
  private static final int RUNS = 20;
  private static final int WARMUP = 2;

  @Test
  void applyToFirstHealthyAnswerVersusRawDockerJava() throws IOException {
    DockerClient docker = TestDocker.engine();
    DockerEnvironmentProvider provider = TestDocker.provider(Map.of());
    DockerEnvironmentProvider noFirewall = TestDocker.provider(Map.of("hostFirewall", Map.of("mode", "off")));
    String repo = "bench-" + UUID.randomUUID().toString().substring(0, 8) + "/app";
    List<Long> viaProvider = new ArrayList<>();
    List<Long> withoutFirewall = new ArrayList<>();
    List<Long> raw = new ArrayList<>();
    List<Long> rawWithNetwork = new ArrayList<>();
    try {
      for (int i = 0; i < WARMUP + RUNS; i++) {
        long p = timeProvider(provider, PreviewKey.pr(repo, i + 1));
        long off = timeProvider(noFirewall, PreviewKey.pr(repo, 1000 + i + 1));
        long r = timeRaw(docker, i, false);
        long rn = timeRaw(docker, i, true);
        if (i >= WARMUP) {
          viaProvider.add(p);
          withoutFirewall.add(off);
          raw.add(r);
          rawWithNetwork.add(rn);
        }
      }
    } finally {
      provider.close();
      noFirewall.close();
    }
    double mp = median(viaProvider) / 1e6;
    double moff = median(withoutFirewall) / 1e6;
    double mr = median(raw) / 1e6;
    double mrn = median(rawWithNetwork) / 1e6;
    String report = String.format(Locale.ROOT,
        "apply -> first HTTP 200, median of %d: provider %.0f ms, raw docker-java create+start+poll %.0f ms, ratio %.2f%n"
            + "(raw plus creating its own bridge network, as the provider does for isolation: %.0f ms, ratio %.2f)%n"
            + "(the provider with hostFirewall.mode: off: %.0f ms; the firewall's check costs ratio %.2f)%n"
            + "provider runs (ms): %s%nraw runs (ms): %s%nraw+network runs (ms): %s%nfirewall off runs (ms): %s%n",
        RUNS, mp, mr, mp / mr, mrn, mp / mrn, moff, mp / moff, millis(viaProvider), millis(raw), millis(rawWithNetwork),
        millis(withoutFirewall));
    System.out.print(report);
    Files.writeString(Path.of("target/apply-latency.txt"), report);
    assertThat(viaProvider).hasSize(RUNS);
  }

  /**
   * The gap in service during an update to a new revision with host-port publishing: the longest
   * time without an HTTP 200 while a client polls every 5 ms (median of 10 updates).
   */
  @Test
  void updateGapWithHostPortPublishing() throws Exception {
    TestDocker.engine();
    DockerEnvironmentProvider provider = TestDocker.provider(Map.of());
    PreviewKey key = PreviewKey.pr("bench-" + UUID.randomUUID().toString().substring(0, 8) + "/app", 1);
    List<Long> gaps = new ArrayList<>();
    try {
      Environment env = provider.apply(EnvironmentSpec.builder(key, "r0").image(TestDocker.IMAGE).port(8080).build());
      URI health = URI.create(env.url() + "/health");
      awaitOk(health);
      for (int i = 1; i <= 10; i++) {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong lastOk = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
        java.util.concurrent.atomic.AtomicLong maxGap = new java.util.concurrent.atomic.AtomicLong();
        Thread poller = new Thread(() -> {
          while (!stop.get()) {
            if (TestDocker.get(health).status() == 200) {
              long now = System.nanoTime();
              maxGap.accumulateAndGet(now - lastOk.getAndSet(now), Math::max);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
          }
        });
        poller.start();
        Environment updated = provider.apply(EnvironmentSpec.builder(key, "r" + i).image(TestDocker.IMAGE).port(8080).build());
        assertThat(updated.url()).isEqualTo(env.url());
        awaitOk(health);
        await().atMost(Duration.ofSeconds(5)).until(() -> System.nanoTime() - lastOk.get() < 50_000_000L);
        stop.set(true);
        poller.join();
        gaps.add(maxGap.get());
      }
    } finally {
      provider.delete(key);
      provider.close();
    }
    String report = String.format(Locale.ROOT,
        "update to a new revision with host-port publishing, longest gap without HTTP 200 (poll every 5 ms),"
            + " median of 10: %.0f ms; runs (ms): %s%n", median(gaps) / 1e6, millis(gaps));
    System.out.print(report);
    Files.writeString(Path.of("target/update-gap.txt"), report);
  }

  /**
   * A roll back with host-port publishing (issue 14): from {@code rejectRevision} of a new revision
   * to the first HTTP 200 of the previous one, which it stops and starts again; against raw
   * docker-java doing the same to two containers in the same run ({@code stop -t 0} of one,
   * {@code start} of the other, poll). Median of 10, 1 warm-up. Also counts how often the previous
   * revision came back on the same URL (its first container was bound to "any free port").
   */
  @Test
  void rollBackWithHostPortPublishingVersusRawStopAndStart() throws Exception {
    DockerClient docker = TestDocker.engine();
    DockerEnvironmentProvider provider = TestDocker.provider(Map.of());
    PreviewKey key = PreviewKey.pr("bench-" + UUID.randomUUID().toString().substring(0, 8) + "/app", 1);
    List<Long> viaProvider = new ArrayList<>();
    List<Long> raw = new ArrayList<>();
    int sameUrl = 0;
    boolean firstSame = false;
    try {
      for (int i = 0; i < 11; i++) {
        Environment good = provider.apply(EnvironmentSpec.builder(key, "g" + i).image(TestDocker.IMAGE).port(8080)
            .labels(Labels.ownership(key, "g" + i)).build());
        awaitOk(URI.create(good.url() + "/health"));
        provider.acceptRevision(key, "g" + i);
        Environment bad = provider.apply(EnvironmentSpec.builder(key, "b" + i).image(TestDocker.IMAGE).port(8080)
            .labels(Labels.ownership(key, "b" + i)).build());
        awaitOk(URI.create(bad.url() + "/health"));
        long t0 = System.nanoTime();
        Environment back = provider.rejectRevision(key, "b" + i).orElseThrow();
        awaitOk(URI.create(back.url() + "/health"));
        long p = System.nanoTime() - t0;
        assertThat(back.revision()).isEqualTo("g" + i);
        long r = timeRawStopAndStart(docker, i);
        if (i > 0) {
          viaProvider.add(p);
          raw.add(r);
          sameUrl += back.url().equals(good.url()) ? 1 : 0;
        } else {
          firstSame = back.url().equals(good.url()); // back to the preview's first container: "any free port"
        }
      }
    } finally {
      provider.delete(key);
      provider.close();
    }
    double mp = median(viaProvider) / 1e6;
    double mr = median(raw) / 1e6;
    String report = String.format(Locale.ROOT,
        "roll back with host-port publishing, rejectRevision -> first HTTP 200 of the previous revision, median of %d:"
            + " provider %.0f ms, raw docker-java stop -t 0 + start + poll %.0f ms, ratio %.2f; same URL in %d of %d"
            + " (later containers are bound to the preview's port); back to the first container (bound to any free"
            + " port): same URL %s%nprovider runs (ms): %s%nraw runs (ms): %s%n",
        viaProvider.size(), mp, mr, mp / mr, sameUrl, viaProvider.size(), firstSame, millis(viaProvider), millis(raw));
    System.out.print(report);
    Files.writeString(Path.of("target/rollback-gap.txt"), report);
  }

  /** Two containers on one fixed host port: the second serving, the first stopped; time stop of the second + start of the first. */
  private static long timeRawStopAndStart(DockerClient docker, int i) throws IOException {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Ports ports = new Ports();
    ports.bind(ExposedPort.tcp(8080), Ports.Binding.bindIpAndPort("127.0.0.1", port));
    List<String> ids = new ArrayList<>();
    try {
      for (int n = 0; n < 2; n++) {
        ids.add(docker.createContainerCmd(TestDocker.IMAGE).withName("preview-bench-rb-" + UUID.randomUUID().toString()
            .substring(0, 8) + "-" + i + "-" + n).withExposedPorts(ExposedPort.tcp(8080))
            .withHostConfig(HostConfig.newHostConfig().withPortBindings(ports)).exec().getId());
      }
      URI health = URI.create("http://127.0.0.1:" + port + "/health");
      docker.startContainerCmd(ids.get(0)).exec();
      awaitOk(health);
      docker.stopContainerCmd(ids.get(0)).withTimeout(0).exec();
      docker.startContainerCmd(ids.get(1)).exec();
      awaitOk(health);
      long t0 = System.nanoTime();
      docker.stopContainerCmd(ids.get(1)).withTimeout(0).exec();
      docker.startContainerCmd(ids.get(0)).exec();
      awaitOk(health);
      return System.nanoTime() - t0;
    } finally {
      ids.forEach(id -> docker.removeContainerCmd(id).withForce(true).exec());
    }
  }

  private static long timeProvider(DockerEnvironmentProvider provider, PreviewKey key) {
    EnvironmentSpec spec = EnvironmentSpec.builder(key, "r1").image(TestDocker.IMAGE).port(8080).healthPath("/health")
        .labels(Labels.ownership(key, "r1")).build();
    try {
      long t0 = System.nanoTime();
      Environment env = provider.apply(spec);
      awaitOk(URI.create(env.url() + spec.healthPath()));
      return System.nanoTime() - t0;
    } finally {
      provider.delete(key);
    }
  }

  private static long timeRaw(DockerClient docker, int i, boolean ownNetwork) {
    String name = "preview-bench-raw-" + UUID.randomUUID().toString().substring(0, 8) + "-" + i;
    Ports ports = new Ports();
    ports.bind(ExposedPort.tcp(8080), Ports.Binding.bindIp("127.0.0.1"));
    long t0 = System.nanoTime();
    HostConfig host = HostConfig.newHostConfig().withPortBindings(ports);
    if (ownNetwork) {
      docker.createNetworkCmd().withName(name).withDriver("bridge").exec();
      host.withNetworkMode(name);
    }
    String id = docker.createContainerCmd(TestDocker.IMAGE).withName(name).withExposedPorts(ExposedPort.tcp(8080))
        .withHostConfig(host).exec().getId();
    try {
      docker.startContainerCmd(id).exec();
      String port = docker.inspectContainerCmd(id).exec().getNetworkSettings().getPorts().getBindings()
          .get(ExposedPort.tcp(8080))[0].getHostPortSpec();
      awaitOk(URI.create("http://127.0.0.1:" + port + "/health"));
      return System.nanoTime() - t0;
    } finally {
      docker.removeContainerCmd(id).withForce(true).exec();
      if (ownNetwork) {
        docker.removeNetworkCmd(name).exec();
      }
    }
  }

  private static void awaitOk(URI uri) {
    await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(5))
        .until(() -> TestDocker.get(uri).status() == 200);
  }

  private static double median(List<Long> xs) {
    List<Long> s = xs.stream().sorted().toList();
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2.0;
  }

  private static List<Long> millis(List<Long> nanos) {
    return nanos.stream().map(n -> n / 1_000_000).toList();
  }
}
