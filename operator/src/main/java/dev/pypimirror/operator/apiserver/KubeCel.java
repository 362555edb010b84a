package dev.pypimirror.operator.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.types.CelType;
import dev.cel.common.types.CelTypeProvider;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.types.StructType;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * CEL as kube-apiserver declares it, with Google's CEL for Java.
 *
 * <p>Two environments: a CRD's {@code x-kubernetes-validations} rule sees {@code self} (and {@code
 * oldSelf}) typed from the structural schema at the rule's place; a webhook's {@code
 * matchConditions} see {@code object}, {@code oldObject} (dyn), {@code request} (the admission
 * request) and {@code authorizer}. {@code namespaceObject} is declared there as kube-apiserver
 * declares it, but the webhook matcher never binds it (apiserver {@code
 * webhook/matchconditions/matcher.go}): an expression reading it errors at evaluation, and {@link
 * #namespaceObjectUses} lets the build refuse it.
 *
 * <p>Functions: CEL's standard library only, which every Kubernetes version since 1.25 declares, so
 * anything that compiles here compiles on the minimum version (1.30). Kubernetes' own libraries
 * (lists, regex, url, quantity, authz...) are not declared: a rule using one fails this build
 * rather than a cluster.
 */
public final class KubeCel {
  /** kube-apiserver's request size limit, from which unbounded sizes are estimated. */
  public static final long MAX_REQUEST_BYTES = 3L * 1024 * 1024;

  /** The longest string a request can hold (estimateMaxStringLengthPerRequest: less its quotes). */
  private static final long MAX_STRING_BYTES = MAX_REQUEST_BYTES - 2;

  /** The serialized size of "" (apiserver/pkg/cel MinStringSize). */
  private static final long MIN_STRING_SIZE = 2;

  /** The variable kube-apiserver declares for admission CEL but leaves null for webhooks. */
  public static final String NAMESPACE_OBJECT = "namespaceObject";

  /** CEL's null, for a variable bound to null. */
  public static final Object NULL = dev.cel.common.values.NullValue.NULL_VALUE;

  /**
   * A schema node as CEL sees it (apiserver's DeclType): its CEL type, the most elements it can
   * hold (string characters, list items, map entries; 0: not a container), the least bytes it takes
   * serialized, and its fields or elements.
   */
  public record Decl(
      CelType type,
      long maxElements,
      long minSerializedSize,
      Map<String, Decl> fields,
      Decl element) {

    /** The node a cost-estimation path reaches: field names, then @items/@values/@keys. */
    public Optional<Decl> at(List<String> path) {
      Decl node = this;
      for (String step : path) {
        node =
            switch (step) {
              case "@items", "@values" -> node.element;
              case "@keys", "@indices" -> null;
              default -> node.fields == null ? null : node.fields.get(step);
            };
        if (node == null) {
          return Optional.empty();
        }
      }
      return Optional.of(node);
    }
  }

  /** A compiled expression: its checked AST and a program. */
  public record Compiled(String expression, CelAbstractSyntaxTree ast, Cel cel) {
    /** Evaluates to any value; JSON variables are turned into CEL values. */
    public Object value(Map<String, JsonNode> variables, Map<String, Object> celValues)
        throws CelEvaluationException {
      Map<String, Object> values = new LinkedHashMap<>(celValues);
      variables.forEach(
          (name, json) -> {
            if (json != null && !json.isMissingNode() && !json.isNull()) {
              values.put(name, toCel(json));
            }
          });
      return cel.createProgram(ast).eval(values);
    }

    /** Evaluates to a boolean; variables are JSON trees turned into CEL values. */
    public boolean evaluate(Map<String, JsonNode> variables) throws CelEvaluationException {
      return evaluate(variables, Map.of());
    }

    /** Evaluates with these JSON variables and these CEL values (such as {@link #NULL}). */
    public boolean evaluate(Map<String, JsonNode> variables, Map<String, Object> celValues)
        throws CelEvaluationException {
      Object result = value(variables, celValues);
      if (result instanceof Boolean b) {
        return b;
      }
      throw new CelEvaluationException("expression did not evaluate to a bool: " + result);
    }

    /** Whether the expression reads this variable. */
    public boolean uses(String variable) {
      return identifiers(ast.getExpr()).contains(variable);
    }
  }

  private KubeCel() {}

  /** The CEL declaration of a structural schema (apiserver's SchemaDeclType). */
  public static Decl declOf(JsonNode schema, String typeName) {
    if (schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
      long max = schema.has("maxLength") ? schema.get("maxLength").asLong() * 4 : MAX_STRING_BYTES;
      return new Decl(SimpleType.DYN, max, 1, null, null);
    }
    return switch (schema.path("type").asText()) {
      case "array" ->
          schema.has("items")
              ? collectionOf(
                  schema,
                  schema.get("items"),
                  typeName + "/@items",
                  "maxItems",
                  1,
                  ListType::create)
              : null;
      case "object" ->
          schema.path("additionalProperties").isObject()
              ? collectionOf(
                  schema,
                  schema.get("additionalProperties"),
                  typeName + "/@values",
                  "maxProperties",
                  6,
                  values -> MapType.create(SimpleType.STRING, values))
              : structOf(schema, typeName);
      case "string" ->
          new Decl(SimpleType.STRING, maxStringBytes(schema), MIN_STRING_SIZE, null, null);
      case "boolean" -> new Decl(SimpleType.BOOL, 0, 4, null, null);
      case "integer" -> new Decl(SimpleType.INT, 0, 1, null, null);
      case "number" -> new Decl(SimpleType.DOUBLE, 0, 1, null, null);
      default -> null;
    };
  }

  /**
   * A list (items) or a map (additionalProperties): as many elements as its bound says, else as
   * many of the smallest as fit in a request (each with {@code overhead} bytes of separators).
   */
  private static Decl collectionOf(
      JsonNode schema,
      JsonNode elementSchema,
      String elementName,
      String bound,
      long overhead,
      java.util.function.UnaryOperator<CelType> typeOf) {
    Decl element = declOf(elementSchema, elementName);
    if (element == null) {
      return null;
    }
    long max =
        schema.has(bound)
            ? schema.get(bound).asLong()
            : MAX_STRING_BYTES / (element.minSerializedSize + overhead);
    return new Decl(typeOf.apply(element.type), max, 2, null, element);
  }

  /**
   * An object with properties: a struct type of its fields; its least size counts the required
   * fields without a default.
   */
  private static Decl structOf(JsonNode schema, String typeName) {
    Map<String, Decl> fields = new LinkedHashMap<>();
    Set<String> required = new java.util.HashSet<>();
    schema.path("required").forEach(r -> required.add(r.asText()));
    long minSize = 2;
    for (var property : schema.path("properties").properties()) {
      Decl field = declOf(property.getValue(), typeName + "/" + property.getKey());
      if (field == null) {
        continue;
      }
      fields.put(property.getKey(), field);
      if (required.contains(property.getKey()) && !property.getValue().has("default")) {
        minSize += property.getKey().length() + field.minSerializedSize + 4;
      }
    }
    Map<String, CelType> fieldTypes = new LinkedHashMap<>();
    fields.forEach((name, decl) -> fieldTypes.put(name, decl.type));
    return new Decl(struct(typeName, fieldTypes), 0, minSize, fields, null);
  }

  /**
   * The most bytes a string holds: maxLength code points of up to 4 bytes each (the API server
   * reasons in bytes), else its longest enum value, else the request limit.
   */
  private static long maxStringBytes(JsonNode schema) {
    if (schema.has("maxLength")) {
      return schema.get("maxLength").asLong() * 4;
    }
    if (schema.has("enum")) {
      long max = 0;
      for (JsonNode value : schema.get("enum")) {
        max = Math.max(max, value.asText().length());
      }
      return max;
    }
    return MAX_STRING_BYTES;
  }

  /** Compiles a CRD rule written at a schema node whose declaration is {@code self}. */
  public static Compiled compileRule(Decl self, String rule) throws CelValidationException {
    Cel cel =
        builder(structTypes(self)).addVar("self", self.type).addVar("oldSelf", self.type).build();
    return new Compiled(rule, cel.compile(rule).getAst(), cel);
  }

  /** Compiles a webhook matchCondition in the admission environment kube-apiserver declares. */
  public static Compiled compileMatchCondition(String expression) throws CelValidationException {
    Cel cel =
        builder(List.of(GROUP_VERSION_KIND, GROUP_VERSION_RESOURCE, USER_INFO, REQUEST, AUTHORIZER))
            .addVar("object", SimpleType.DYN)
            .addVar("oldObject", SimpleType.DYN)
            .addVar("request", REQUEST)
            .addVar("authorizer", AUTHORIZER)
            .addVar(NAMESPACE_OBJECT, SimpleType.DYN)
            .build();
    return new Compiled(expression, cel.compile(expression).getAst(), cel);
  }

  /**
   * Compiles an expression of a MutatingAdmissionPolicy or ValidatingAdmissionPolicy in the
   * environment kube-apiserver 1.36 declares for them: {@code object}, {@code oldObject}, {@code
   * params}, {@code namespaceObject} (dyn), {@code request}, {@code authorizer}, {@code variables};
   * CEL's standard library with the strings extension, two-variable comprehensions and homogeneous
   * aggregate literals; the {@code JSONPatch} type and {@code Object...} types whose fields are
   * whatever the expression initializes (kube-apiserver resolves them without a schema:
   * mutation/unstructured's type resolver). Struct values evaluate to maps of their fields.
   */
  public static Compiled compilePolicyExpression(String expression) throws CelValidationException {
    CelAbstractSyntaxTree parsed =
        builder(List.of())
            .addCompilerLibraries(STRINGS, COMPREHENSIONS)
            .build()
            .parse(expression)
            .getAst();
    Cel cel =
        CelFactory.plannerCelBuilder()
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .setOptions(
                CelOptions.current()
                    .enableHeterogeneousNumericComparisons(true)
                    .enableHomogeneousLiterals(true)
                    .build())
            .setTypeProvider(typeProvider(policyTypes(parsed)))
            .setValueProvider((type, values) -> Optional.of(new LinkedHashMap<>(values)))
            .addCompilerLibraries(STRINGS, COMPREHENSIONS)
            .addRuntimeLibraries(STRINGS, COMPREHENSIONS)
            .addVar("object", SimpleType.DYN)
            .addVar("oldObject", SimpleType.DYN)
            .addVar("params", SimpleType.DYN)
            .addVar(NAMESPACE_OBJECT, SimpleType.DYN)
            .addVar("request", REQUEST)
            .addVar("authorizer", AUTHORIZER)
            .addVar("variables", MapType.create(SimpleType.STRING, SimpleType.DYN))
            .build();
    return new Compiled(expression, cel.check(parsed).getAst(), cel);
  }

  /**
   * The admission types, {@code JSONPatch}, and every {@code Object...} type the expression
   * initializes, with the fields it gives them (dyn).
   */
  private static List<CelType> policyTypes(CelAbstractSyntaxTree parsed) {
    Map<String, Set<String>> fields = new LinkedHashMap<>();
    structFields(parsed.getExpr(), fields);
    fields
        .computeIfAbsent("JSONPatch", n -> new java.util.HashSet<>())
        .addAll(List.of("op", "path", "from", "value"));
    List<CelType> types =
        new ArrayList<>(
            List.of(GROUP_VERSION_KIND, GROUP_VERSION_RESOURCE, USER_INFO, REQUEST, AUTHORIZER));
    fields.forEach(
        (name, names) -> {
          if (name.equals("JSONPatch") || name.equals("Object") || name.startsWith("Object.")) {
            types.add(
                StructType.create(
                    name, ImmutableSet.copyOf(names), f -> Optional.of(SimpleType.DYN)));
          }
        });
    return types;
  }

  private static void structFields(CelExpr e, Map<String, Set<String>> out) {
    visit(
        e,
        node -> {
          if (node.getKind() == CelExpr.ExprKind.Kind.STRUCT) {
            Set<String> names =
                out.computeIfAbsent(node.struct().messageName(), n -> new java.util.HashSet<>());
            node.struct().entries().forEach(en -> names.add(en.fieldKey()));
          }
        });
  }

  /** Whether a matchCondition reads namespaceObject, which webhooks never get. */
  public static boolean namespaceObjectUses(Compiled condition) {
    return condition.uses(NAMESPACE_OBJECT);
  }

  private static dev.cel.bundle.CelBuilder builder(Collection<CelType> types) {
    return CelFactory.standardCelBuilder()
        .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
        .setOptions(CelOptions.current().enableHeterogeneousNumericComparisons(true).build())
        .setTypeProvider(typeProvider(types));
  }

  /** These types by name (the last of a name wins). */
  private static CelTypeProvider typeProvider(Collection<CelType> types) {
    Map<String, CelType> byName = new LinkedHashMap<>();
    types.forEach(t -> byName.put(t.name(), t));
    return new CelTypeProvider() {
      @Override
      public ImmutableList<CelType> types() {
        return ImmutableList.copyOf(byName.values());
      }

      @Override
      public Optional<CelType> findType(String name) {
        return Optional.ofNullable(byName.get(name));
      }
    };
  }

  private static List<CelType> structTypes(Decl decl) {
    List<CelType> out = new ArrayList<>();
    if (decl == null) {
      return out;
    }
    if (decl.type instanceof StructType) {
      out.add(decl.type);
    }
    if (decl.fields != null) {
      decl.fields.values().forEach(f -> out.addAll(structTypes(f)));
    }
    out.addAll(structTypes(decl.element));
    return out;
  }

  private static final dev.cel.extensions.CelStringExtensions STRINGS =
      dev.cel.extensions.CelExtensions.strings();
  private static final dev.cel.extensions.CelComprehensionsExtensions COMPREHENSIONS =
      dev.cel.extensions.CelExtensions.comprehensions();

  private static StructType struct(String name, Map<String, CelType> fields) {
    return StructType.create(
        name, ImmutableSet.copyOf(fields.keySet()), f -> Optional.ofNullable(fields.get(f)));
  }

  private static final StructType GROUP_VERSION_KIND =
      struct(
          "kubernetes.GroupVersionKind",
          Map.of(
              "group", SimpleType.STRING, "version", SimpleType.STRING, "kind", SimpleType.STRING));
  private static final StructType GROUP_VERSION_RESOURCE =
      struct(
          "kubernetes.GroupVersionResource",
          Map.of(
              "group", SimpleType.STRING,
              "version", SimpleType.STRING,
              "resource", SimpleType.STRING));
  private static final StructType USER_INFO =
      struct(
          "kubernetes.UserInfo",
          Map.of(
              "username",
              SimpleType.STRING,
              "uid",
              SimpleType.STRING,
              "groups",
              ListType.create(SimpleType.STRING),
              "extra",
              MapType.create(SimpleType.STRING, ListType.create(SimpleType.STRING))));

  /** admission.k8s.io/v1 AdmissionRequest as CEL declares it. */
  private static final StructType REQUEST =
      struct(
          "kubernetes.AdmissionRequest",
          Map.ofEntries(
              Map.entry("kind", GROUP_VERSION_KIND),
              Map.entry("resource", GROUP_VERSION_RESOURCE),
              Map.entry("subResource", SimpleType.STRING),
              Map.entry("requestKind", GROUP_VERSION_KIND),
              Map.entry("requestResource", GROUP_VERSION_RESOURCE),
              Map.entry("requestSubResource", SimpleType.STRING),
              Map.entry("name", SimpleType.STRING),
              Map.entry("namespace", SimpleType.STRING),
              Map.entry("operation", SimpleType.STRING),
              Map.entry("userInfo", USER_INFO),
              Map.entry("dryRun", SimpleType.BOOL),
              Map.entry("options", SimpleType.DYN)));

  /**
   * The authorizer is declared (so its name resolves) but has none of its functions: this build
   * does not emulate authorization, and an expression calling it fails here.
   */
  private static final StructType AUTHORIZER =
      struct("kubernetes.authorization.Authorizer", Map.of());

  private static Set<String> identifiers(CelExpr expr) {
    Set<String> names = new java.util.HashSet<>();
    collect(expr, names);
    return names;
  }

  private static void collect(CelExpr e, Set<String> names) {
    visit(
        e,
        node -> {
          if (node.getKind() == CelExpr.ExprKind.Kind.IDENT) {
            names.add(node.ident().name());
          }
        });
  }

  /** Calls {@code visitor} on every node of the expression. */
  private static void visit(CelExpr e, java.util.function.Consumer<CelExpr> visitor) {
    visitor.accept(e);
    switch (e.getKind()) {
      case SELECT -> visit(e.select().operand(), visitor);
      case CALL -> {
        e.call().target().ifPresent(t -> visit(t, visitor));
        e.call().args().forEach(a -> visit(a, visitor));
      }
      case LIST -> e.list().elements().forEach(a -> visit(a, visitor));
      case MAP ->
          e.map()
              .entries()
              .forEach(
                  en -> {
                    visit(en.key(), visitor);
                    visit(en.value(), visitor);
                  });
      case STRUCT -> e.struct().entries().forEach(en -> visit(en.value(), visitor));
      case COMPREHENSION -> {
        var c = e.comprehension();
        visit(c.iterRange(), visitor);
        visit(c.accuInit(), visitor);
        visit(c.loopCondition(), visitor);
        visit(c.loopStep(), visitor);
        visit(c.result(), visitor);
      }
      default -> {}
    }
  }

  /** JSON as CEL values: objects as maps, integral numbers as int, nulls left out. */
  static Object toCel(JsonNode json) {
    if (json.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      json.properties()
          .forEach(
              e -> {
                if (!e.getValue().isNull()) {
                  map.put(e.getKey(), toCel(e.getValue()));
                }
              });
      return map;
    }
    if (json.isArray()) {
      List<Object> list = new ArrayList<>();
      json.forEach(item -> list.add(toCel(item)));
      return list;
    }
    if (json.isBoolean()) {
      return json.booleanValue();
    }
    if (json.isIntegralNumber()) {
      return json.longValue();
    }
    if (json.isNumber()) {
      return json.doubleValue();
    }
    return json.asText();
  }
}
