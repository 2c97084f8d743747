/// Which endpoint a request is for.
struct Route {
    enum Action: Sendable {
        case account, hardware
        case createFile, listFiles, getFile(String), deleteFile(String)
        /// `model` is `owner/name` for the by-model route, nil for `POST /v1/predictions`.
        case createPrediction(model: String?)
        case listPredictions, getPrediction(String), cancelPrediction(String)
        case createModel, listModels, getModel(String), listVersions(String), getVersion(String, String)
        case createTraining(String, String)
        case listTrainings, getTraining(String), cancelTraining(String)
        case delivery(String)
        case publicFile(String)
        case webPage(String)
        case notFound
        case methodNotAllowed([String])
    }

    /// Which rate-limit bucket a request draws from.
    enum Bucket: Sendable { case create, other }

    /// `METHOD /path/{placeholders}`: the ledger's key.
    let key: String
    let action: Action
    /// The fault class, nil for routes no fault targets.
    let requestClass: FakeReplicate.RequestClass?
    let bucket: Bucket?
    /// Under `/v1`.
    let isAPI: Bool

    static func match(method: String, segments: [String]) -> Route {
        let isAPI = segments.first == "v1"
        let path = Array(segments.dropFirst(isAPI ? 1 : 0))
        // (pattern, [method: (action, class, bucket)])
        typealias Entry = (action: Action, requestClass: FakeReplicate.RequestClass?, bucket: Bucket?)
        var pattern = ""
        var methods: [String: Entry] = [:]

        if isAPI {
            switch path.count {
            case 1:
                switch path[0] {
                case "account":
                    pattern = "/v1/account"
                    methods["GET"] = (.account, .get, .other)
                case "hardware":
                    pattern = "/v1/hardware"
                    methods["GET"] = (.hardware, .get, .other)
                case "files":
                    pattern = "/v1/files"
                    methods["POST"] = (.createFile, .files, .other)
                    methods["GET"] = (.listFiles, .files, .other)
                case "predictions":
                    pattern = "/v1/predictions"
                    methods["POST"] = (.createPrediction(model: nil), .create, .create)
                    methods["GET"] = (.listPredictions, .list, .other)
                case "models":
                    pattern = "/v1/models"
                    methods["POST"] = (.createModel, .create, .other)
                    methods["GET"] = (.listModels, .list, .other)
                case "trainings":
                    pattern = "/v1/trainings"
                    methods["GET"] = (.listTrainings, .list, .other)
                default: break
                }
            case 2:
                switch path[0] {
                case "files":
                    pattern = "/v1/files/{id}"
                    methods["GET"] = (.getFile(path[1]), .files, .other)
                    methods["DELETE"] = (.deleteFile(path[1]), .files, .other)
                case "predictions":
                    pattern = "/v1/predictions/{id}"
                    methods["GET"] = (.getPrediction(path[1]), .get, .other)
                case "trainings":
                    pattern = "/v1/trainings/{id}"
                    methods["GET"] = (.getTraining(path[1]), .get, .other)
                default: break
                }
            case 3:
                switch (path[0], path[2]) {
                case ("predictions", "cancel"):
                    pattern = "/v1/predictions/{id}/cancel"
                    methods["POST"] = (.cancelPrediction(path[1]), .cancel, .other)
                case ("trainings", "cancel"):
                    pattern = "/v1/trainings/{id}/cancel"
                    methods["POST"] = (.cancelTraining(path[1]), .cancel, .other)
                case ("models", _):
                    pattern = "/v1/models/{owner}/{name}"
                    methods["GET"] = (.getModel("\(path[1])/\(path[2])"), .get, .other)
                default: break
                }
            case 4 where path[0] == "models":
                let model = "\(path[1])/\(path[2])"
                switch path[3] {
                case "predictions":
                    pattern = "/v1/models/{owner}/{name}/predictions"
                    methods["POST"] = (.createPrediction(model: model), .create, .create)
                case "versions":
                    pattern = "/v1/models/{owner}/{name}/versions"
                    methods["GET"] = (.listVersions(model), .list, .other)
                default: break
                }
            case 5 where path[0] == "models" && path[3] == "versions":
                pattern = "/v1/models/{owner}/{name}/versions/{id}"
                methods["GET"] = (.getVersion("\(path[1])/\(path[2])", path[4]), .get, .other)
            case 6 where path[0] == "models" && path[3] == "versions" && path[5] == "trainings":
                pattern = "/v1/models/{owner}/{name}/versions/{id}/trainings"
                methods["POST"] = (.createTraining("\(path[1])/\(path[2])", path[4]), .create, .create)
            default: break
            }
        } else if path.count == 3, path[0] == "delivery" {
            pattern = "/delivery/{token}/{name}"
            methods["GET"] = (.delivery(path[1]), .delivery, nil)
            methods["HEAD"] = (.delivery(path[1]), .delivery, nil)
        } else if path.count == 2, path[0] == "public" {
            pattern = "/public/{name}"
            methods["GET"] = (.publicFile(path[1]), nil, nil)
            methods["HEAD"] = (.publicFile(path[1]), nil, nil)
        } else if path.count == 2, path[0] == "p" {
            pattern = "/p/{id}"
            methods["GET"] = (.webPage(path[1]), nil, nil)
        }

        guard !pattern.isEmpty else {
            return Route(key: "\(method) (unknown)", action: .notFound, requestClass: nil, bucket: nil, isAPI: isAPI)
        }
        guard let entry = methods[method] else {
            return Route(
                key: "\(method) \(pattern)", action: .methodNotAllowed(methods.keys.sorted()), requestClass: nil, bucket: nil, isAPI: isAPI)
        }
        return Route(key: "\(method) \(pattern)", action: entry.action, requestClass: entry.requestClass, bucket: entry.bucket, isAPI: isAPI)
    }
}
