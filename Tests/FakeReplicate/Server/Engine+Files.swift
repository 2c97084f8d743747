import FarmKit
import Foundation

/// The Files API: `POST /v1/files` (multipart), list, get, delete.
extension Engine {
    func createFile(_ request: Incoming) -> Reply {
        if request.body.count > configuration.maxFileSize { return .tooLarge() }
        guard let type = request.header("content-type"), let boundary = Multipart.boundary(fromContentType: type) else {
            return .badRequest("Expected a multipart/form-data body with a 'content' part")
        }
        let parts: [MultipartPart]
        do {
            parts = try Multipart.parse(request.body, boundary: boundary)
        } catch {
            return .badRequest("Multipart form parse error - \(error)")
        }
        guard let content = parts.first(where: { $0.name == "content" }) else {
            return .validationFailed([InvalidField(type: "required", field: "(root)", description: "content is required")])
        }
        if content.data.count > configuration.maxFileSize { return .tooLarge() }
        let filenamePart = parts.first { $0.name == "filename" }.map { String(decoding: $0.data, as: UTF8.self) }
        let name = filenamePart ?? content.filename ?? "file"
        guard name.utf8.count <= 255 else {
            return .validationFailed([InvalidField(type: "string_lte", field: "filename", description: "String length must be less than or equal to 255")])
        }
        let typePart = parts.first { $0.name == "type" }.map { String(decoding: $0.data, as: UTF8.self) }
        let mediaType = typePart ?? content.contentType ?? "application/octet-stream"
        var metadata: JSON = .object(JSONObject())
        if let part = parts.first(where: { $0.name == "metadata" }) {
            guard let value = try? JSON.parse(String(decoding: part.data, as: UTF8.self), source: "metadata"), value.objectValue != nil else {
                return .validationFailed([InvalidField(type: "invalid_type", field: "metadata", description: "Invalid type. Expected: object")])
            }
            metadata = value
        }

        let id = Identifier.file()
        let path = storage.appendingPathComponent("files").appendingPathComponent(id)
        do {
            try content.data.write(to: path)
        } catch {
            return .serverError(500)
        }
        let now = Date()
        let record = state.withLock { state in
            let record = FileRecord(
                id: id, name: name, contentType: mediaType, size: content.data.count, sha256: SHA256.hex(content.data),
                md5: MD5.hex(content.data), metadata: metadata, createdAt: now,
                expiresAt: now.addingTimeInterval(configuration.fileRetention), sequence: state.sequence(), path: path)
            state.files[id] = record
            return record
        }
        return .json(201, record.json(origin: origin))
    }

    func listFiles(_ request: Incoming) -> Reply {
        let origin = self.origin
        let items = state.withLock { state in
            state.files.values.filter { !$0.deleted }.map { (sequence: $0.sequence, json: $0.json(origin: origin)) }
        }
        return page(items, request: request, path: "/v1/files")
    }

    func getFile(_ id: String) -> Reply {
        guard let record = state.withLock({ $0.files[id] }), !record.deleted else { return .fileNotFound() }
        return .json(200, record.json(origin: origin))
    }

    func deleteFile(_ id: String) -> Reply {
        let path = state.withLock { state -> URL? in
            guard let record = state.files[id], !record.deleted else { return nil }
            state.files[id]?.deleted = true
            return record.path
        }
        guard let path else { return .fileNotFound() }
        try? FileManager.default.removeItem(at: path)
        return Reply(status: 204, headers: [("Content-Type", "text/plain; charset=UTF-8")])
    }
}

extension Reply {
    static func tooLarge() -> Reply {
        .problem(413, title: nil, detail: "Files must be less than 100MB in size", includeStatus: false)
    }

    static func fileNotFound() -> Reply {
        .problem(404, title: nil, detail: "File not found", includeStatus: false)
    }
}
