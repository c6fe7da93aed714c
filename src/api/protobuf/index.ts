// Kubernetes protobuf request bodies → the JSON objects the API server already handles.
export { decodeKubernetesProtobuf, decodeMessage, isProtobufMediaType, PROTOBUF_MAGIC, PROTOBUF_MEDIA_TYPE, type JsonObject } from './decode.ts';
