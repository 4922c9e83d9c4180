package dev.preview.examples.serve;

import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.config.PreviewConfig;
import dev.preview.core.config.ProviderSection;
import dev.preview.scm.WebhookSource;
import dev.preview.spi.ConfigurationException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code preview serve --config preview.yaml}: runs the webhook server. The {@code scm} section
 * names the SCM ({@code provider: github} or {@code gitlab}) and holds its token and
 * {@code webhook-secret}; the server answers on {@code POST /webhooks/<provider>} and reconciles
 * every {@code reconcile.interval}. Stops on SIGINT/SIGTERM, letting running deploys finish.
 *
 * <p>Exit codes: 0 stopped cleanly; 1 could not listen; 2 the configuration is wrong (every problem printed).
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Receive GitHub or GitLab webhooks and run a preview for every pull request.")
public final class ServeCommand implements Callable<Integer> {
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|kb|k|mb|m)?");

  @Spec CommandSpec spec;

  @Option(names = {"-c", "--config"}, defaultValue = "preview.yaml", description = "The configuration file (default: ${DEFAULT-VALUE}).")
  Path config;

  @Option(names = "--port", defaultValue = "8080", description = "Port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--bind", defaultValue = "0.0.0.0", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(names = "--max-body-size", defaultValue = "25MB", description = "Larger deliveries are refused with 413 (default: ${DEFAULT-VALUE}).")
  String maxBodySize;

  @Option(names = "--threads", defaultValue = "8", description = "Request threads (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--reconcile-interval", description = "Overrides reconcile.interval of the configuration, e.g. 5m; 0 turns it off.")
  String reconcileInterval;

  /** A started server with its orchestrator; closing it stops both. */
  public static final class Running implements AutoCloseable {
    private final WebhookServer server;
    private final PreviewOrchestrator orchestrator;
    private final String path;

    Running(WebhookServer server, PreviewOrchestrator orchestrator, String path) {
      this.server = server;
      this.orchestrator = orchestrator;
      this.path = path;
    }

    public WebhookServer server() {
      return server;
    }

    /** Where the SCM must send its webhooks, e.g. {@code /webhooks/github}. */
    public String webhookPath() {
      return path;
    }

    @Override
    public void close() {
      server.close();
      orchestrator.close();
    }
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Running running;
    try {
      running = start();
    } catch (ConfigurationException e) {
      err.println(e.getMessage());
      return 2;
    } catch (IOException e) {
      err.println("cannot listen on " + bind + ":" + port + ": " + e.getMessage());
      return 1;
    }
    out.println("preview serve: listening on " + running.server().url() + running.webhookPath() + " (health: /healthz)");
    out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      running.close();
      stopped.countDown();
    }, "preview-serve-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running.close();
    }
    return 0;
  }

  /** Reads the configuration, builds the orchestrator and the webhook source, and starts listening. */
  public Running start() throws IOException {
    PreviewConfig cfg = PreviewConfig.load(config);
    List<String> problems = new ArrayList<>();
    int maxBytes = size(maxBodySize, problems);
    Duration interval = cfg.reconcileInterval();
    if (reconcileInterval != null) {
      try {
        interval = dev.preview.spi.ProviderConfig.parseDuration(reconcileInterval);
      } catch (IllegalArgumentException e) {
        problems.add("--reconcile-interval: " + e.getMessage());
      }
    }
    WebhookSource source = null;
    try {
      source = webhookSource(cfg.scm());
    } catch (ConfigurationException e) {
      problems.addAll(e.problems());
    }
    if (!problems.isEmpty()) {
      throw new ConfigurationException(problems);
    }
    PreviewOrchestrator orchestrator = PreviewOrchestrator.fromConfig(cfg);
    try {
      WebhookServer server = WebhookServer.builder().orchestrator(orchestrator).source(source)
          .port(port).bind(bind).threads(threads).maxBodyBytes(maxBytes).reconcileInterval(interval).start();
      return new Running(server, orchestrator, "/webhooks/" + source.name());
    } catch (IOException | RuntimeException e) {
      orchestrator.close();
      throw e;
    }
  }

  /** The webhook source named like {@code scm.provider}, built from the same section. */
  static WebhookSource webhookSource(ProviderSection scm) {
    List<String> found = new ArrayList<>();
    for (var it = ServiceLoader.load(WebhookSource.Factory.class).iterator(); it.hasNext(); ) {
      WebhookSource.Factory f;
      try {
        f = it.next();
      } catch (ServiceConfigurationError e) {
        continue;
      }
      found.add(f.name());
      if (f.name().equals(scm.provider())) {
        return f.create(scm.config());
      }
    }
    throw new ConfigurationException(scm.path() + ".provider: preview serve receives webhooks from " + String.join(" or ", found)
        + ", but the scm provider is \"" + scm.provider() + "\" (set scm.provider: github or gitlab, with webhook-secret)");
  }

  private static int size(String text, List<String> problems) {
    Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      problems.add("--max-body-size: must be a size such as 25MB or 512KB, got \"" + text + "\"");
      return WebhookServer.DEFAULT_MAX_BODY_BYTES;
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2);
    long bytes = unit.startsWith("k") ? n * 1024 : unit.startsWith("m") ? n * 1024 * 1024 : n;
    if (bytes < 1 || bytes > Integer.MAX_VALUE - 16) {
      problems.add("--max-body-size: must be between 1 byte and 2GB, got \"" + text + "\"");
      return WebhookServer.DEFAULT_MAX_BODY_BYTES;
    }
    return (int) bytes;
  }
}
