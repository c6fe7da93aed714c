// Request bodies captured from the real kubectl with -v=10: the protobuf body kubectl 1.32/1.33 sends
// for a command, and the JSON body kubectl 1.27 sends for the same command (generated names aligned).
// Test data for decode.test.ts.
export interface KubectlCapture {
  command: string;
  protobufHex: string;
  json: string;
}

export const KUBECTL_CAPTURES: readonly KubectlCapture[] = [
  {
    command: "create namespace",
    protobufHex: "6b3873000a0f0a02763112094e616d657370616365121b0a130a036e736112001a0022002a0032003800420012001a020a001a002200",
    json: "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"nsa\",\"creationTimestamp\":null},\"spec\":{},\"status\":{}}",
  },
  {
    command: "create deployment --image=nginx --replicas=2",
    protobufHex: "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412a3010a1b0a017812001a0022002a003200380042005a080a0361707012017812760802120a0a080a036170701201781a5e0a1a0a0012001a0022002a003200380042005a080a03617070120178124012220a056e67696e7812056e67696e782a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200",
    json: "{\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"name\":\"x\",\"creationTimestamp\":null,\"labels\":{\"app\":\"x\"}},\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"x\"}},\"template\":{\"metadata\":{\"creationTimestamp\":null,\"labels\":{\"app\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\",\"resources\":{}}]}},\"strategy\":{}},\"status\":{}}",
  },
  {
    command: "create configmap --from-literal (x2)",
    protobufHex: "6b3873000a0f0a0276311209436f6e6669674d617012230a110a016312001a0022002a0032003800420012060a016112016212060a016b1201761a002200",
    json: "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"c\",\"creationTimestamp\":null},\"data\":{\"a\":\"b\",\"k\":\"v\"}}",
  },
  {
    command: "create configmap --from-file (binary and text)",
    protobufHex: "6b3873000a0f0a0276311209436f6e6669674d6170123b0a120a02636612001a0022002a0032003800420012120a08746578742e747874120668656c6c6f0a1a110a0762696e2e646174120662696e00ff011a002200",
    json: "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"cf\",\"creationTimestamp\":null},\"data\":{\"text.txt\":\"hello\\n\"},\"binaryData\":{\"bin.dat\":\"YmluAP8B\"}}",
  },
  {
    command: "create secret generic --from-literal",
    protobufHex: "6b3873000a0c0a0276311206536563726574121d0a110a017312001a0022002a0032003800420012060a01611201621a001a002200",
    json: "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"s\",\"creationTimestamp\":null},\"data\":{\"a\":\"Yg==\"}}",
  },
  {
    command: "create service clusterip --tcp=80:8080",
    protobufHex: "6b3873000a0d0a02763112075365727669636512630a1b0a017312001a0022002a003200380042005a080a0361707012017312400a1b0a0738302d38303830120354435018502207080010903f1a00280012080a036170701201731a002209436c757374657249503a00420052005a00600068001a020a001a002200",
    json: "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"s\",\"creationTimestamp\":null,\"labels\":{\"app\":\"s\"}},\"spec\":{\"ports\":[{\"name\":\"80-8080\",\"protocol\":\"TCP\",\"port\":80,\"targetPort\":8080}],\"selector\":{\"app\":\"s\"},\"type\":\"ClusterIP\"},\"status\":{\"loadBalancer\":{}}}",
  },
  {
    command: "create service nodeport --node-port=30080",
    protobufHex: "6b3873000a0d0a02763112075365727669636512670a1d0a026e7012001a0022002a003200380042005a090a0361707012026e7012420a1d0a0738302d38303830120354435018502207080010903f1a002880eb0112090a0361707012026e701a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200",
    json: "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"np\",\"creationTimestamp\":null,\"labels\":{\"app\":\"np\"}},\"spec\":{\"ports\":[{\"name\":\"80-8080\",\"protocol\":\"TCP\",\"port\":80,\"targetPort\":8080,\"nodePort\":30080}],\"selector\":{\"app\":\"np\"},\"type\":\"NodePort\"},\"status\":{\"loadBalancer\":{}}}",
  },
  {
    command: "create service clusterip --tcp=80:8080 --tcp=443:https",
    protobufHex: "6b3873000a0d0a0276311207536572766963651293010a230a056d756c746912001a0022002a003200380042005a0c0a0361707012056d756c746912680a1b0a0738302d38303830120354435018502207080010903f1a0028000a220a093434332d6874747073120354435018bb03220b080110001a0568747470732800120c0a0361707012056d756c74691a002209436c757374657249503a00420052005a00600068001a020a001a002200",
    json: "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"multi\",\"creationTimestamp\":null,\"labels\":{\"app\":\"multi\"}},\"spec\":{\"ports\":[{\"name\":\"80-8080\",\"protocol\":\"TCP\",\"port\":80,\"targetPort\":8080},{\"name\":\"443-https\",\"protocol\":\"TCP\",\"port\":443,\"targetPort\":\"https\"}],\"selector\":{\"app\":\"multi\"},\"type\":\"ClusterIP\"},\"status\":{\"loadBalancer\":{}}}",
  },
  {
    command: "create serviceaccount",
    protobufHex: "6b3873000a140a027631120e536572766963654163636f756e7412140a120a02736112001a0022002a003200380042001a002200",
    json: "{\"kind\":\"ServiceAccount\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"sa\",\"creationTimestamp\":null}}",
  },
  {
    command: "create ingress --rule with tls, --default-backend, --annotation",
    protobufHex: "6b3873000a1f0a146e6574776f726b696e672e6b38732e696f2f76311207496e6772657373127e0a1c0a04696e673212001a0022002a0032003800420062060a0161120162125a0a1422120a0664656673766312080a0468747470100012120a07666f6f2e636f6d12076d792d636572741a2e0a07666f6f2e636f6d12230a210a1f0a012f121222100a047376633112080a046874747010001a065072656669781a020a001a002200",
    json: "{\"kind\":\"Ingress\",\"apiVersion\":\"networking.k8s.io/v1\",\"metadata\":{\"name\":\"ing2\",\"creationTimestamp\":null,\"annotations\":{\"a\":\"b\"}},\"spec\":{\"defaultBackend\":{\"service\":{\"name\":\"defsvc\",\"port\":{\"name\":\"http\"}}},\"tls\":[{\"hosts\":[\"foo.com\"],\"secretName\":\"my-cert\"}],\"rules\":[{\"host\":\"foo.com\",\"http\":{\"paths\":[{\"path\":\"/\",\"pathType\":\"Prefix\",\"backend\":{\"service\":{\"name\":\"svc1\",\"port\":{\"name\":\"http\"}}}}]}}]},\"status\":{\"loadBalancer\":{}}}",
  },
  {
    command: "debug node (hostPath volume, host namespaces, tolerations)",
    protobufHex: "6b3873000a090a0276311203506f6412d2010a290a196e6f64652d64656275676765722d6e6f6465312d7171376d6c12001a0022002a003200380042001292010a120a09686f73742d726f6f7412050a030a012f12450a086465627567676572120762757379626f782a0042004a180a09686f73742d726f6f7410001a052f686f7374220032006a007200800100880100900100a2010446696c651a054e65766572320042004a0052056e6f6465315801600168018201008a01009a0100b2010e0a0012064578697374731a002200c201001a100a001a0022002a0032004a005a0072001a002200",
    json: "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"node-debugger-node1-qq7ml\",\"creationTimestamp\":null},\"spec\":{\"volumes\":[{\"name\":\"host-root\",\"hostPath\":{\"path\":\"/\"}}],\"containers\":[{\"name\":\"debugger\",\"image\":\"busybox\",\"resources\":{},\"volumeMounts\":[{\"name\":\"host-root\",\"mountPath\":\"/host\"}],\"terminationMessagePolicy\":\"File\"}],\"restartPolicy\":\"Never\",\"nodeName\":\"node1\",\"hostNetwork\":true,\"hostPID\":true,\"hostIPC\":true,\"tolerations\":[{\"operator\":\"Exists\"}]},\"status\":{}}",
  },
];
