// Hand-declared, wire-identical copies of the few foreign messages a Rapport client reads or
// writes besides Rapport's own (google.rpc.Status and BadRequest, grpc.health.v1,
// grpc.reflection.v1, which is v1alpha on the wire), as protobuf-es descriptors, and the reader of
// the rich error status (`grpc-status-details-bin`). Used by conformance.mjs and example.mjs.
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label as Label, FieldDescriptorProto_Type as Type, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

// Each message: [field name, number, scalar type or message name, repeated?]; in JS the fields are
// camelCase (protobuf-es). Oneof members are declared as plain fields: a request sets exactly one,
// with a non-empty value.
const SCALAR = { int32: Type.INT32, string: Type.STRING, bytes: Type.BYTES };
function declare(pkg, messages) {
  const file = create(FileDescriptorProtoSchema, {
    name: `conformance/${pkg}.proto`, package: pkg, syntax: "proto3",
    messageType: Object.entries(messages).map(([name, fields]) => ({
      name,
      field: fields.map(([field, number, type, repeated]) => ({
        name: field, number, label: repeated ? Label.REPEATED : Label.OPTIONAL,
        type: SCALAR[type] ?? Type.MESSAGE, typeName: SCALAR[type] ? undefined : `.${pkg}.${type}`,
      })),
    })),
  });
  const registry = createFileRegistry(file, () => undefined);
  return Object.fromEntries(Object.keys(messages).map((name) => [name, registry.getMessage(`${pkg}.${name}`)]));
}

export const rpc = declare("google.rpc", {
  Status: [["code", 1, "int32"], ["message", 2, "string"], ["details", 3, "Any", true]],
  Any: [["type_url", 1, "string"], ["value", 2, "bytes"]], // google.protobuf.Any on the wire
  BadRequest: [["field_violations", 1, "FieldViolation", true]],
  FieldViolation: [["field", 1, "string"], ["description", 2, "string"]], // BadRequest.FieldViolation
});
export const health = declare("grpc.health.v1", {
  HealthCheckRequest: [["service", 1, "string"]],
  HealthCheckResponse: [["status", 1, "int32"]], // 1 = SERVING
});
export const reflection = declare("grpc.reflection.v1", {
  ServerReflectionRequest: [["host", 1, "string"], ["file_by_filename", 3, "string"],
    ["file_containing_symbol", 4, "string"], ["list_services", 7, "string"]],
  ServerReflectionResponse: [["valid_host", 1, "string"], ["file_descriptor_response", 4, "FileDescriptorResponse"],
    ["list_services_response", 6, "ListServiceResponse"], ["error_response", 7, "ErrorResponse"]],
  FileDescriptorResponse: [["file_descriptor_proto", 1, "bytes", true]],
  ListServiceResponse: [["service", 1, "ServiceResponse", true]],
  ServiceResponse: [["name", 1, "string"]],
  ErrorResponse: [["error_code", 1, "int32"], ["error_message", 2, "string"]],
});

/** The rich status of a grpc-js error: its `google.rpc.Status` (or undefined when the server sent
 * none) and the BadRequest field violations in it ([{ field, description }]). */
export function richStatus(err) {
  const [raw] = err.metadata?.get("grpc-status-details-bin") ?? [];
  if (!raw) return { status: undefined, violations: [] };
  const status = fromBinary(rpc.Status, raw);
  const violations = status.details
    .filter((detail) => detail.typeUrl.endsWith("/google.rpc.BadRequest"))
    .flatMap((detail) => fromBinary(rpc.BadRequest, detail.value).fieldViolations);
  return { status, violations };
}
