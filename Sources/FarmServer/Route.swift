import HTTPTypes

/// The studio's pages and API endpoints (documented in /openapi.json).
enum Route: Equatable {
    case page, asset(String), openAPI
    case profiles, subjects, providers
    case uploads
    case renders, render(String), renderEvents(String), renderCancel(String)
    case runs, run(String), runVideo(String), runStill(String), stageOutput(run: String, stage: String, port: String)

    init?(_ path: [String]) {
        let p = path + Array(repeating: "", count: max(0, 7 - path.count))
        switch (path.count, p[0], p[1], p[2], p[3], p[4], p[5]) {
        case (0, _, _, _, _, _, _): self = .page
        case (1, "openapi.json", _, _, _, _, _): self = .openAPI
        case (1, let name, _, _, _, _, _) where StudioPage.assets[name] != nil: self = .asset(name)
        case (2, "api", "profiles", _, _, _, _): self = .profiles
        case (2, "api", "subjects", _, _, _, _): self = .subjects
        case (2, "api", "providers", _, _, _, _): self = .providers
        case (2, "api", "uploads", _, _, _, _): self = .uploads
        case (2, "api", "renders", _, _, _, _): self = .renders
        case (3, "api", "renders", let id, _, _, _): self = .render(id)
        case (4, "api", "renders", let id, "events", _, _): self = .renderEvents(id)
        case (4, "api", "renders", let id, "cancel", _, _): self = .renderCancel(id)
        case (2, "api", "runs", _, _, _, _): self = .runs
        case (3, "api", "runs", let id, _, _, _): self = .run(id)
        case (4, "api", "runs", let id, "video", _, _): self = .runVideo(id)
        case (4, "api", "runs", let id, "still", _, _): self = .runStill(id)
        case (7, "api", "runs", let id, "stages", let stage, "outputs"): self = .stageOutput(run: id, stage: stage, port: path[6])
        default: return nil
        }
    }

    var methods: [HTTPRequest.Method] {
        switch self {
        case .uploads, .renderCancel: [.post]
        case .renders: [.get, .post]
        default: [.get]
        }
    }
}
