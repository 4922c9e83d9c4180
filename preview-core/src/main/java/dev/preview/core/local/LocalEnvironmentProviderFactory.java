package dev.preview.core.local;

import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Builds the {@code local} provider from its config section:
 *
 * <pre>{@code
 * environment:
 *   provider: local
 *   stateDir: .preview/local     # state files and logs
 *   workDir: .                   # working directory of the apps
 *   host: 127.0.0.1              # host in the URLs
 *   command: [java, -jar, app.jar]   # used when app.command is not set
 *   inheritEnv: [MAVEN_OPTS]     # more env vars of this JVM the apps inherit
 *   stopTimeout: 10s             # SIGTERM grace before SIGKILL
 *   startCheck: 2s               # how long apply watches for an immediate exit
 * }</pre>
 */
public final class LocalEnvironmentProviderFactory implements EnvironmentProvider.Factory {

  @Override
  public String name() {
    return LocalEnvironmentProvider.NAME;
  }

  @Override
  public EnvironmentProvider create(ProviderContext context) {
    ProviderConfig config = context.config();
    config.ignore("provider");
    LocalEnvironmentProvider.Builder b = LocalEnvironmentProvider.builder()
        .stateDir(Path.of(config.string("stateDir", ".preview/local")))
        .workDir(Path.of(config.string("workDir", "")))
        .host(config.string("host", "127.0.0.1"))
        .command(config.strings("command"))
        .inheritEnv(config.strings("inheritEnv"))
        .stopTimeout(config.duration("stopTimeout", Duration.ofSeconds(10)))
        .startCheck(config.duration("startCheck", Duration.ofSeconds(2)));
    config.validate();
    return b.build();
  }
}
