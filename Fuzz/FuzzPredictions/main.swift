import FarmKit
import Foundation
import FuzzSupport
import ReplicateProvider

/// Replicate's answers from any bytes: the body of a response to a prediction request.
///
/// Properties: decoding never crashes; a 2xx body is JSON or a clear error; an error status always
/// gives a `ReplicateError` with that status; a decoded prediction keeps its id and status, its
/// output URLs are http(s), its log tail is bounded and has no blank lines, its creation date is
/// finite; each output URL (and the input read as a URL) gives a file name that stays in its
/// folder; the model input is checked against a schema from the same body; the input read as a
/// model reference parses to the same text.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzPredictions(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = Data(fuzzBytes(data, size))
    let url = URL(string: "https://api.replicate.com/v1/predictions/abc")!
    do {
        let json = try ReplicateClient.decode(HTTPResponse(status: 200, headers: [:], body: body, url: url), what: "a prediction")
        checkPrediction(json)
        for item in json["results"]?.arrayValue ?? [] { checkPrediction(item) }
        let schema = InputSchema(openAPISchema: json["openapi_schema"] ?? json)
        _ = schema.problems(with: json["input"]?.objectValue ?? JSONObject())
    } catch is HTTPError, is ReplicateError {
    } catch {
        require(false, "decoding a 200 answer: not an HTTPError or ReplicateError: \(type(of: error)): \(error)")
    }
    for status in [400, 401, 402, 404, 413, 422, 429, 500, 503] {
        do {
            _ = try ReplicateClient.decode(HTTPResponse(status: status, headers: [:], body: body, url: url), what: "a prediction")
            require(false, "status \(status) decoded as a success")
        } catch let error as ReplicateError {
            require(error.status == status && !error.message.isEmpty, "status \(status) gave \(error)")
        } catch {
            require(false, "status \(status): not a ReplicateError: \(type(of: error)): \(error)")
        }
    }
    let text = String(decoding: body, as: UTF8.self)
    if let output = URL(string: text) { checkSafeName(output) }
    if let reference = ModelReference(text) {
        require(reference.description == text, "model reference \(text) reads as \(reference)")
    }
    return 0
}

func checkPrediction(_ json: JSON) {
    guard let prediction = try? Prediction(json: json) else { return }
    require(prediction.id == json["id"]?.stringValue && prediction.status.rawValue == json["status"]?.stringValue,
            "id or status changed: \(json.compactString)")
    require(prediction.error.map { !$0.isEmpty } ?? true, "an empty error message")
    let tail = prediction.logTail(3)
    require(tail.count <= 3 && tail.allSatisfy { !$0.trimmingCharacters(in: .whitespaces).isEmpty }, "log tail \(tail)")
    if let created = prediction.createdAt {
        require(created.timeIntervalSince1970.isFinite, "created_at \(json["created_at"]!.compactString) gives \(created)")
    }
    for output in prediction.outputURLs {
        require(output.scheme == "http" || output.scheme == "https", "output URL \(output) is not http(s)")
        checkSafeName(output)
    }
}

/// The downloaded file's name must stay inside the scratch folder and fit in a file name
/// (255 bytes with the `NNN-` index prefix).
func checkSafeName(_ url: URL) {
    let name = RemotePrediction.safeName(url)
    require(!name.isEmpty && name.utf8.first != UInt8(ascii: "."), "name \"\(name)\" from \(url) is empty or hidden")
    require(!name.unicodeScalars.contains("/") && !name.unicodeScalars.contains("\0"), "name \"\(name)\" from \(url) has a / or NUL")
    require(name.utf8.count <= 200, "name from \(url) is \(name.utf8.count) bytes long")
}

runFuzzer("fuzz-predictions", fuzzPredictions)
