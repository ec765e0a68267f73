import Foundation
import Grid

/// The two imaging workflows, as shipped YAML (`Sources/Imaging/Workflows/*.yaml`).
public enum ImagingWorkflows {
    /// Workflow names.
    public enum Name: String, Sendable, CaseIterable {
        /// One product → tiles → zip.
        case orthoS1GRD = "ORTHO_S1_GRD"
        /// A season → tiles → rice maps.
        case riceMap = "RICE_MAP"
    }

    /// The YAML text of `name`.
    ///
    /// - Throws: ``WorkflowInputError/unreadable(_:)`` when the resource is missing from the build.
    public static func yaml(_ name: Name) throws -> String {
        guard let url = Bundle.module.url(forResource: name.rawValue, withExtension: "yaml"),
              let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw WorkflowInputError.unreadable("\(name.rawValue).yaml (a resource of the Imaging module)")
        }
        return text
    }

    /// The parsed workflow `name`.
    public static func workflow(_ name: Name) throws -> Workflow {
        try Workflow(yaml: yaml(name), file: name.rawValue + ".yaml")
    }
}
