package dev.preview.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import java.time.Duration;

/**
 * Builds the docker-java client. A class of its own, referenced only from the provider's
 * {@link LazyClient}, so that making a provider loads nothing of docker-java's implementation.
 */
final class EngineClient {
  private EngineClient() {}

  static DockerClient build(DockerSettings s) {
    DefaultDockerClientConfig.Builder b = DefaultDockerClientConfig.createDefaultConfigBuilder()
        .withDockerHost(s.host)
        .withDockerTlsVerify(s.tlsVerify);
    if (s.certPath != null) {
      b.withDockerCertPath(s.certPath);
    }
    DockerClientConfig config = b.build();
    ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder()
        .dockerHost(config.getDockerHost())
        .sslConfig(config.getSSLConfig())
        .connectionTimeout(Duration.ofSeconds(5))
        .maxConnections(32)
        .build();
    return DockerClientImpl.getInstance(config, http);
  }

}
