import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { createFileRegistry, fromBinary, fromJson, toBinary, toJson } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { richStatus } from "./rich-status.mjs"; // google.rpc.Status and BadRequest, from grpc-status-details-bin

const [target = "127.0.0.1:50051", schema = "rapport.binpb"] = process.argv.slice(2); // schema: buf build proto -o rapport.binpb
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(schema)));
const client = new grpc.Client(target, grpc.credentials.createInsecure());
const call = (path, request) => new Promise((resolve, reject) => { // "package.Service/Method"; proto3 JSON in and out
  const [service, name] = path.split("/"), method = registry.getService(service).methods.find((m) => m.name === name);
  client.makeUnaryRequest(`/${path}`, (json) => Buffer.from(toBinary(method.input, fromJson(method.input, json))),
    (bytes) => toJson(method.output, fromBinary(method.output, bytes), { useProtoFieldName: true }),
    request, (err, response) => (err ? reject(err) : resolve(response)));
});

const customer = { legal_name: "Ștefan Popescu", locale: "ro-RO", time_zone: "Europe/Bucharest" };
console.log("created", (await call("rapport.profiles.v1.ProfileService/CreateCustomer", { customer })).customer.customer_id);
await call("rapport.profiles.v1.ProfileService/CreateCustomer", { customer: { ...customer, locale: "ro_RO!" } }).catch((err) => {
  console.log(grpc.status[err.code], err.details);
  for (const v of richStatus(err).violations) console.log(`  ${v.field}: ${v.description}`);
});
client.close();
