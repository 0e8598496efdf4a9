// Imported first by the CLI. GStreamer's appsink pull and bus poll each hold a libuv pool
// thread while they wait, beside ONNX Runtime, sharp and fs: four threads are not enough.
process.env.UV_THREADPOOL_SIZE ??= '12';
export {};
