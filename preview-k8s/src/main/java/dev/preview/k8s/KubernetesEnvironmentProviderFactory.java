package dev.preview.k8s;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.File;

/**
 * Builds the {@code kubernetes} provider from config. Credentials, in this order: an explicit
 * {@code masterUrl} (+ {@code token}), a {@code kubeconfig} file (+ {@code context}), else Fabric8's
 * auto-configuration: {@code $KUBECONFIG} / {@code ~/.kube/config}, then the in-cluster service account.
 * Cheap to construct; the client is built in {@link #create} only.
 */
public final class KubernetesEnvironmentProviderFactory implements EnvironmentProvider.Factory {

  @Override
  public String name() {
    return KubernetesEnvironmentProvider.NAME;
  }

  @Override
  public EnvironmentProvider create(ProviderContext context) {
    ProviderConfig config = context.config();
    KubernetesSettings s = KubernetesSettings.read(config);
    if (s.kubeconfig != null && !new File(s.kubeconfig).canRead()) {
      config.problem("kubeconfig", "cannot read file " + s.kubeconfig);
    }
    config.validate();
    return KubernetesEnvironmentProvider.owning(client(s, config.path()), s);
  }

  static KubernetesClient client(KubernetesSettings s, String path) {
    Config cfg;
    if (s.masterUrl != null) {
      ConfigBuilder b = new ConfigBuilder(Config.empty()).withMasterUrl(s.masterUrl);
      if (s.token != null) {
        b.withOauthToken(s.token.reveal());
      }
      cfg = b.build();
    } else if (s.kubeconfig != null) {
      try {
        cfg = Config.fromKubeconfig(s.context, new File(s.kubeconfig));
      } catch (RuntimeException e) {
        throw new ConfigurationException(path + ".kubeconfig: cannot use " + s.kubeconfig + ": " + e.getMessage());
      }
    } else {
      cfg = Config.autoConfigure(s.context);
    }
    // The orchestrator retries what we mark retryable; Fabric8's own 10 retries would hold a call for minutes.
    cfg.setRequestRetryBackoffLimit(2);
    if (s.trustCerts) {
      cfg.setTrustCerts(true);
    }
    if (s.caCertFile != null) {
      cfg.setCaCertFile(s.caCertFile);
    }
    return new KubernetesClientBuilder().withConfig(cfg).build();
  }
}
