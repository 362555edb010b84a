package dev.pypimirror.operator.cluster;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DatabindException;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.deser.std.DelegatingDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.Undecodable;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decoding that one bad object cannot stop: a PypiMirror or PypiMirrorPolicy that does not decode
 * (a field of the wrong type) becomes an {@link Undecodable} object with only its metadata, logged
 * once per version, instead of an exception. fabric8's informers decode a list or a watch event as
 * a whole and stop on a decoding error (java-operator-sdk's exception handler declines to retry
 * one, and its InformerStoppedHandler then exits the process), so every informer, cache and read of
 * the operator goes through a client with this decoding: the other objects keep being reconciled
 * and served.
 */
public final class TolerantDecoding {
  private static final Logger LOG = LoggerFactory.getLogger(TolerantDecoding.class);
  private static final Set<Class<?>> TOLERATED = Set.of(PypiMirror.class, PypiMirrorPolicy.class);
  private static final int REPORTED_VERSIONS = 4096;

  private TolerantDecoding() {}

  /** fabric8's serialization with the tolerant decoding registered. */
  static final class Serialization extends KubernetesSerialization {
    Serialization() {
      super(new ObjectMapper().registerModule(module()), true);
    }
  }

  /**
   * A client like {@code client} (its configuration) that decodes tolerantly; {@code client} itself
   * when it already does. The caller closes a client it did not pass in.
   */
  public static KubernetesClient client(KubernetesClient client) {
    if (client.getKubernetesSerialization() instanceof Serialization) {
      return client;
    }
    return builder().withConfig(client.getConfiguration()).build();
  }

  /** A client builder (configured from the environment unless given a config) that decodes so. */
  public static KubernetesClientBuilder builder() {
    return new KubernetesClientBuilder().withKubernetesSerialization(new Serialization());
  }

  static SimpleModule module() {
    Map<String, Boolean> reported =
        Collections.synchronizedMap(
            new LinkedHashMap<>() {
              @Override
              protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > REPORTED_VERSIONS;
              }
            });
    SimpleModule module = new SimpleModule("pypimirror-tolerant-decoding");
    module.setDeserializerModifier(
        new BeanDeserializerModifier() {
          @Override
          public JsonDeserializer<?> modifyDeserializer(
              DeserializationConfig config, BeanDescription bean, JsonDeserializer<?> strict) {
            return TOLERATED.contains(bean.getBeanClass())
                ? new Tolerant(strict, bean.getBeanClass(), reported)
                : strict;
          }
        });
    return module;
  }

  /** Decodes strictly; when that fails, the metadata alone, marked {@link Undecodable}. */
  private static final class Tolerant extends DelegatingDeserializer {
    private final Class<?> type;
    private final Map<String, Boolean> reported;

    Tolerant(JsonDeserializer<?> strict, Class<?> type, Map<String, Boolean> reported) {
      super(strict);
      this.type = type;
      this.reported = reported;
    }

    @Override
    protected JsonDeserializer<?> newDelegatingInstance(JsonDeserializer<?> strict) {
      return new Tolerant(strict, type, reported);
    }

    @Override
    public Object deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      JsonNode tree = ctxt.readTree(p);
      try (JsonParser replay = tree.traverse(p.getCodec())) {
        replay.nextToken();
        Object decoded = _delegatee.deserialize(replay, ctxt);
        return keepMarkOfStubOnly(tree, (HasMetadata) decoded);
      } catch (DatabindException | IllegalArgumentException e) {
        return stub(tree, p, e);
      }
    }

    /**
     * A copy of an undecodable object (metadata, no spec, no status) keeps its mark; any other
     * object that carries one is not trusted with it.
     */
    private static HasMetadata keepMarkOfStubOnly(JsonNode tree, HasMetadata decoded) {
      if (!Undecodable.is(decoded)) {
        return decoded;
      }
      if (tree.has("spec") || tree.has("status")) {
        decoded.getMetadata().getAdditionalProperties().remove(Undecodable.CAUSE);
        return decoded;
      }
      CustomResource<?, ?> resource = (CustomResource<?, ?>) decoded;
      resource.setSpec(null);
      resource.setStatus(null);
      return decoded;
    }

    private Object stub(JsonNode tree, JsonParser p, Exception e) throws IOException {
      if (!(tree instanceof ObjectNode) || !tree.path("metadata").isObject()) {
        throw e instanceof IOException io ? io : new IOException(e);
      }
      ObjectMeta meta;
      try {
        meta = p.getCodec().treeToValue(tree.get("metadata"), ObjectMeta.class);
      } catch (IOException | IllegalArgumentException metadataUnreadable) {
        e.addSuppressed(metadataUnreadable);
        throw e instanceof IOException io ? io : new IOException(e);
      }
      CustomResource<?, ?> stub;
      try {
        stub = (CustomResource<?, ?>) type.getDeclaredConstructor().newInstance();
      } catch (ReflectiveOperationException impossible) {
        throw new IllegalStateException(impossible);
      }
      stub.setMetadata(meta);
      stub.setSpec(null);
      stub.setStatus(null);
      String cause = cause(e);
      meta.setAdditionalProperty(Undecodable.CAUSE, cause);
      String version =
          String.join("/", type.getSimpleName(), meta.getUid(), meta.getResourceVersion());
      if (reported.put(version, Boolean.TRUE) == null) {
        LOG.warn(
            "{} is left as it is until it is fixed (uid {}, resourceVersion {})",
            Undecodable.describe(stub),
            meta.getUid(),
            meta.getResourceVersion());
      }
      return stub;
    }

    /** Where and why: {@code status.observedGeneration: Cannot deserialize ...}. */
    static String cause(Exception e) {
      if (!(e instanceof JsonMappingException mapping)) {
        return e.getMessage();
      }
      StringBuilder path = new StringBuilder();
      for (JsonMappingException.Reference reference : mapping.getPath()) {
        if (reference.getFieldName() != null) {
          path.append(path.isEmpty() ? "" : ".").append(reference.getFieldName());
        } else if (reference.getIndex() >= 0) {
          path.append('[').append(reference.getIndex()).append(']');
        }
      }
      String message = mapping.getOriginalMessage().lines().findFirst().orElse("");
      return path.isEmpty() ? message : path + ": " + message;
    }
  }
}
