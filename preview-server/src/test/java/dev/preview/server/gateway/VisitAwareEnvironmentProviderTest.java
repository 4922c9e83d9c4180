package dev.preview.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.EnvironmentProvider;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The gateway's decorator forwards every {@link EnvironmentProvider} method: one it does not declare
 * falls back to the SPI's default, which silently turns off what the provider does (a readiness
 * gate's exit codes, its roll back, or letting the previous revision go).
 */
class VisitAwareEnvironmentProviderTest {
  @Test
  void everyMethodOfTheSpiIsForwarded() {
    List<String> notForwarded = Arrays.stream(EnvironmentProvider.class.getMethods())
        .filter(m -> !Modifier.isStatic(m.getModifiers()))
        .filter(m -> declaringClass(m) != VisitAwareEnvironmentProvider.class)
        .map(Method::getName).sorted().toList();
    assertThat(notForwarded).isEmpty();
  }

  private static Class<?> declaringClass(Method m) {
    try {
      return VisitAwareEnvironmentProvider.class.getMethod(m.getName(), m.getParameterTypes()).getDeclaringClass();
    } catch (NoSuchMethodException e) {
      throw new AssertionError(e);
    }
  }
}
