package dev.pypimirror.operator.testing;

import static java.lang.annotation.ElementType.FIELD;
import static java.lang.annotation.RetentionPolicy.RUNTIME;

import dev.pypimirror.operator.OperatorApp;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.lang.annotation.Retention;
import java.lang.annotation.Target;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link OperatorInCluster} for a whole test class: started before the class's first test (and
 * its own {@code @BeforeAll}), closed after its last (and its own {@code @AfterAll}). The class's
 * static fields marked {@link Running} receive it, or its API server, client or app, by type.
 */
public final class SharedOperator implements BeforeAllCallback, AfterAllCallback {
  /** A static field to set to the running fixture or one of its parts. */
  @Retention(RUNTIME)
  @Target(FIELD)
  public @interface Running {}

  private static final ExtensionContext.Namespace STORE =
      ExtensionContext.Namespace.create(SharedOperator.class);

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    OperatorInCluster cluster = OperatorInCluster.start();
    context.getStore(STORE).put(OperatorInCluster.class, cluster);
    Map<Class<?>, Object> parts =
        Map.of(
            OperatorInCluster.class, cluster,
            ApiServer.class, cluster.api,
            KubernetesClient.class, cluster.client,
            OperatorApp.class, cluster.app);
    for (Field field : context.getRequiredTestClass().getDeclaredFields()) {
      if (!field.isAnnotationPresent(Running.class)) {
        continue;
      }
      Object part = parts.get(field.getType());
      if (part == null || !Modifier.isStatic(field.getModifiers())) {
        throw new IllegalStateException(
            "@Running marks a static field of type OperatorInCluster, ApiServer, KubernetesClient"
                + " or OperatorApp, not "
                + field);
      }
      field.setAccessible(true);
      field.set(null, part);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    OperatorInCluster cluster =
        context.getStore(STORE).remove(OperatorInCluster.class, OperatorInCluster.class);
    if (cluster != null) {
      cluster.close();
    }
  }
}
