/// The cache key of one stage run: the SHA-256 of the canonical JSON of the implementation id,
/// the resolved parameters, the input digests and any extra identity the stage declares.
enum CacheKey {
    static func compute(stage: StageID, parameters: JSONObject, inputs: [String: Artifact], identity: JSON?) -> String {
        var inputDigests = JSONObject()
        for (port, artifact) in inputs { inputDigests[port] = .string(artifact.digest) }
        let material: JSON = [
            "stage": .string(stage.description),
            "parameters": .object(parameters),
            "inputs": .object(inputDigests),
            "identity": identity ?? .null,
        ]
        return SHA256.hex(of: material.canonicalString)
    }
}
