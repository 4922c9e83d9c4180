package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.BuildEvent;
import dev.preview.spi.BuildEvent.Conclusion;
import dev.preview.spi.ImageAvailability;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestEvent.Action;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * What waiting for CI's image costs, measured with the testkit fakes. Off by default (skipped with
 * the reason); run it with:
 *
 * <pre>
 * mvn -B -q -o -pl preview-testkit -am verify -Dtest=BuildWaitHarnessTest -Dpreview.benchmark=true \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
 * </pre>
 *
 * <ol>
 *   <li>Footprint: the JVM's live threads and used heap (after GC) before and after 200 PRs wait
 *       for their image at once, with {@code waitFor} (CI events) and with {@code pollImage}.
 *   <li>Latency from "the image is there" to "the deploy starts" (the step {@code environment}
 *       begins), median and p99 over {@code -Dpreview.benchmark.prs} PRs (default 100): told by a CI
 *       event ({@link PreviewOrchestrator#handle(BuildEvent)}), found by polling (pollInterval 50 ms;
 *       the image appears 0..500 ms after the wait began, spread evenly), against the baseline of the
 *       same orchestrator deploying a PR event with no wait at all. Sequential, one PR at a time, so
 *       the figures are the mechanism's, not a queue's.
 * </ol>
 *
 * The figures are printed and written to {@code preview-testkit/target/build-wait.txt}.
 */
@EnabledIfSystemProperty(named = "preview.benchmark", matches = "true",
    disabledReason = "a harness: run with -Dpreview.benchmark=true")
class BuildWaitHarnessTest {
  static final String REPO = "acme/shop";
  static final String IMAGE = "registry.example/shop:pr";
  static final int WAITERS = 200;
  static final int WARMUP = 20;
  static final Duration POLL = Duration.ofMillis(50);
  static final long POLL_SPREAD_MS = 500;

  static final List<String> report = Collections.synchronizedList(new ArrayList<>());

  /** Everything one orchestrator under test needs, and a signal per key when its deploy starts. */
  static final class Rig implements AutoCloseable {
    final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
    final FakePullRequestSource source = new FakePullRequestSource();
    final Map<PreviewKey, CompletableFuture<Long>> deployStarted = new ConcurrentHashMap<>();
    final Map<PreviewKey, CompletableFuture<PreviewState>> settled = new ConcurrentHashMap<>();
    final PreviewOrchestrator orchestrator;

    Rig(Consumer<BuildSettings.Builder> build) {
      BuildSettings.Builder b = BuildSettings.builder();
      build.accept(b);
      orchestrator = PreviewOrchestrator.builder()
          .environment(env).notifier(new FakeScmNotifier()).pullRequests(source)
          .app(AppTemplate.builder().image(IMAGE).readinessTimeout(Duration.ofSeconds(5))
              .readinessInterval(Duration.ofMillis(10)).build())
          .healthCheck(url -> true).buildSettings(b.build()).parallelism(4)
          .listener(new PreviewListener() {
            @Override
            public void onStepStarted(PreviewKey key, String step) {
              if (step.equals("database") || step.equals("environment")) {
                started(key).complete(System.nanoTime());
              }
            }

            @Override
            public void onTransition(PreviewKey key, PreviewState state, String message) {
              if (state == PreviewState.READY || state == PreviewState.FAILED) {
                done(key).complete(state);
              }
            }
          })
          .build();
    }

    CompletableFuture<Long> started(PreviewKey key) {
      return deployStarted.computeIfAbsent(key, k -> new CompletableFuture<>());
    }

    CompletableFuture<PreviewState> done(PreviewKey key) {
      return settled.computeIfAbsent(key, k -> new CompletableFuture<>());
    }

    PullRequest open(int n) {
      PullRequest pr = PullRequest.open(PreviewKey.pr(REPO, n), sha(n), "feature-" + n, "main");
      source.put(pr);
      return pr;
    }

    Preview opened(PullRequest pr) {
      return get(orchestrator.handle(PullRequestEvent.of(Action.OPENED, pr)));
    }

    @Override
    public void close() {
      orchestrator.close();
    }
  }

  static String sha(int n) {
    return String.format("%040x", n);
  }

  static BuildEvent success(int n) {
    return new BuildEvent(REPO, sha(n), "build-image", Conclusion.SUCCESS, "success",
        URI.create("https://github.com/acme/shop/actions/runs/" + n), "d-" + n);
  }

  static <T> T get(CompletableFuture<T> f) {
    try {
      return f.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("no outcome within 60 s", e);
    }
  }

  // ---------------------------------------------------------------- footprint

  @Test
  void footprintOf200Waits() {
    footprint("waitFor [build-image]", b -> b.waitFor(List.of("build-image")));
    footprint("pollImage, pollInterval 50ms", b -> b.pollImage(true).pollInterval(POLL));
  }

  private void footprint(String mode, Consumer<BuildSettings.Builder> settings) {
    try (Rig rig = new Rig(settings)) {
      rig.env.image(IMAGE, ImageAvailability.ABSENT);
      // Warm-up: every worker and the wait timer exist, every class is loaded.
      List<PullRequest> warm = new ArrayList<>();
      for (int i = 0; i < WARMUP; i++) {
        warm.add(rig.open(100_000 + i));
      }
      warm.forEach(pr -> assertThat(rig.opened(pr).state()).isEqualTo(PreviewState.WAITING));
      rig.env.image(IMAGE, ImageAvailability.PRESENT);
      warm.forEach(pr -> rig.orchestrator.handle(success(pr.key().number())));
      for (PullRequest pr : warm) {
        assertThat(get(rig.done(pr.key()))).isEqualTo(PreviewState.READY);
        get(rig.orchestrator.teardown(pr.key(), "warm-up over"));
      }
      assertThat(rig.orchestrator.waiting()).isEmpty();
      rig.env.image(IMAGE, ImageAvailability.ABSENT);

      List<PullRequest> prs = new ArrayList<>();
      for (int i = 1; i <= WAITERS; i++) {
        prs.add(rig.open(i));
      }
      Sample before = Sample.take();
      List<CompletableFuture<Preview>> futures = new ArrayList<>();
      for (PullRequest pr : prs) {
        futures.add(rig.orchestrator.handle(PullRequestEvent.of(Action.OPENED, pr)));
      }
      futures.forEach(f -> assertThat(get(f).state()).isEqualTo(PreviewState.WAITING));
      assertThat(rig.orchestrator.waiting()).hasSize(WAITERS);
      Sample after = Sample.take();
      assertThat(rig.orchestrator.waiting()).as("still waiting while measured").hasSize(WAITERS);

      long heapDelta = after.heap - before.heap;
      line(String.format(Locale.ROOT,
          "footprint, %s: %d PRs waiting: live threads %d -> %d (x%.2f, %+d); heap used after GC %,d KiB -> %,d KiB"
              + " (x%.3f, %+,d KiB, %+,d bytes per waiting PR)",
          mode, WAITERS, before.threads, after.threads, (double) after.threads / before.threads,
          after.threads - before.threads, before.heap / 1024, after.heap / 1024, (double) after.heap / before.heap,
          heapDelta / 1024, heapDelta / WAITERS));
      assertThat(after.threads - before.threads).as("no thread per waiting PR").isLessThanOrEqualTo(2);

      // They all move on: the image is pushed, and CI says so for each.
      rig.env.image(IMAGE, ImageAvailability.PRESENT);
      prs.forEach(pr -> rig.orchestrator.handle(success(pr.key().number())));
      for (PullRequest pr : prs) {
        assertThat(get(rig.done(pr.key()))).isEqualTo(PreviewState.READY);
      }
    }
  }

  record Sample(int threads, long heap) {
    static Sample take() {
      MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
      for (int i = 0; i < 4; i++) {
        System.gc();
      }
      return new Sample(ManagementFactory.getThreadMXBean().getThreadCount(), memory.getHeapMemoryUsage().getUsed());
    }
  }

  // ---------------------------------------------------------------- latency

  @Test
  void imageToDeployLatency() {
    int n = Integer.getInteger("preview.benchmark.prs", 100);
    List<Long> baseline = baseline(n);
    List<Long> event = byEvent(n);
    List<Long> poll = byPolling(n);
    line(String.format(Locale.ROOT, "image there -> deploy starts (step environment), %d PRs each, one at a time:", n));
    line(stats("baseline (PR event, no wait)", baseline, baseline));
    line(stats("CI event (handle(BuildEvent))", event, baseline));
    line(stats("polling (pollInterval 50ms, image after 0.." + POLL_SPREAD_MS + "ms)", poll, baseline));
  }

  /** From handle(PR event) to the step environment, no wait configured. */
  private List<Long> baseline(int n) {
    try (Rig rig = new Rig(b -> {})) {
      List<Long> out = new ArrayList<>();
      for (int i = 1; i <= WARMUP + n; i++) {
        PullRequest pr = rig.open(i);
        long t0 = System.nanoTime();
        assertThat(rig.opened(pr).state()).isEqualTo(PreviewState.READY);
        if (i > WARMUP) {
          out.add(get(rig.started(pr.key())) - t0);
        }
      }
      return out;
    }
  }

  /** From handle(BuildEvent) of a waiting PR to the step environment. */
  private List<Long> byEvent(int n) {
    try (Rig rig = new Rig(b -> b.waitFor(List.of("build-image")))) {
      List<Long> out = new ArrayList<>();
      for (int i = 1; i <= WARMUP + n; i++) {
        PullRequest pr = rig.open(i);
        assertThat(rig.opened(pr).state()).isEqualTo(PreviewState.WAITING);
        long t0 = System.nanoTime();
        BuildEventResult r = rig.orchestrator.handle(success(i));
        assertThat(get(r.runs().get(pr.key())).state()).isEqualTo(PreviewState.READY);
        if (i > WARMUP) {
          out.add(get(rig.started(pr.key())) - t0);
        }
      }
      return out;
    }
  }

  /** From the image turning PRESENT (i * spread / n ms after the PR began waiting) to the step environment. */
  private List<Long> byPolling(int n) {
    ScheduledExecutorService pusher = Executors.newSingleThreadScheduledExecutor();
    try (Rig rig = new Rig(b -> b.pollImage(true).pollInterval(POLL))) {
      List<Long> out = new ArrayList<>();
      for (int i = 1; i <= WARMUP + n; i++) {
        rig.env.image(IMAGE, ImageAvailability.ABSENT);
        PullRequest pr = rig.open(i);
        assertThat(rig.opened(pr).state()).isEqualTo(PreviewState.WAITING);
        long delay = i > WARMUP ? (i - WARMUP - 1) * POLL_SPREAD_MS / n : 0;
        CompletableFuture<Long> pushed = new CompletableFuture<>();
        pusher.schedule(() -> {
          long t = System.nanoTime();
          rig.env.image(IMAGE, ImageAvailability.PRESENT); // CI pushed it
          pushed.complete(t);
        }, delay, TimeUnit.MILLISECONDS);
        assertThat(get(rig.done(pr.key()))).isEqualTo(PreviewState.READY);
        if (i > WARMUP) {
          out.add(get(rig.started(pr.key())) - get(pushed));
        }
      }
      return out;
    } finally {
      pusher.shutdownNow();
    }
  }

  private static String stats(String what, List<Long> nanos, List<Long> baseline) {
    double median = percentile(nanos, 50);
    double p99 = percentile(nanos, 99);
    return String.format(Locale.ROOT, "  %-62s median %9.3f ms (x%7.1f baseline)  p99 %9.3f ms (x%7.1f baseline)",
        what, median / 1e6, median / percentile(baseline, 50), p99 / 1e6, p99 / percentile(baseline, 99));
  }

  private static double percentile(List<Long> values, int p) {
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
  }

  private static void line(String s) {
    System.out.println(s);
    report.add(s);
  }

  @AfterAll
  static void write() throws IOException {
    Path out = Path.of("target", "build-wait.txt");
    Files.createDirectories(out.getParent());
    Files.write(out, report);
    System.out.println("written to " + out.toAbsolutePath());
  }
}
