import sys, grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from google.rpc.error_details_pb2 import BadRequest
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from grpc_status import rpc_status

channel = grpc.insecure_channel(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051")
pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))  # the schema, by reflection

def call(path, request):  # "package.Service/Method"; request and response as proto3 JSON
    method = pool.FindMethodByName(path.replace("/", "."))
    req, resp = (message_factory.GetMessageClass(t) for t in (method.input_type, method.output_type))
    reply = channel.unary_unary(f"/{path}", req.SerializeToString, resp.FromString)(json_format.ParseDict(request, req()))
    return json_format.MessageToDict(reply, preserving_proto_field_name=True)

customer = {"legal_name": "Ștefan Popescu", "locale": "ro-RO", "time_zone": "Europe/Bucharest"}
print("created", call("rapport.profiles.v1.ProfileService/CreateCustomer", {"customer": customer})["customer"]["customer_id"])
try:
    call("rapport.profiles.v1.ProfileService/CreateCustomer", {"customer": {**customer, "locale": "ro_RO!"}})
except grpc.RpcError as err:
    print(err.code().name, err.details())
    for detail in rpc_status.from_call(err).details:  # google.rpc.Status from grpc-status-details-bin
        if detail.Is(BadRequest.DESCRIPTOR):
            print("\n".join(f"  {v.field}: {v.description}" for v in BadRequest.FromString(detail.value).field_violations))
