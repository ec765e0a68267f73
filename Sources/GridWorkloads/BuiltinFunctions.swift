import Foundation
import Glibc
import Grid
import Imaging

/// Functions every `tessera` process registers, so YAML workflows can use them.
public enum BuiltinFunctions {
    public static func register(in functions: FunctionRegistry) {
        functions.register("tessera.noop") { (_: inout TaskContext) in .null }
        functions.register("tessera.echo") { (context: inout TaskContext) in context.input }
        functions.register("tessera.parents") { (context: inout TaskContext) in .array(context.parentValues) }
        functions.register("tessera.record", record)
        GridWorkload.register(in: functions)
        ImagingFunctions.register(in: functions)
    }
}

/// `tessera.record`: appends the task instance's name as one line to the file named by the variable
/// `RECORD_FILE` (one `write` on an `O_APPEND` descriptor, so concurrent tasks never interleave) and returns
/// the name. What a workflow uses to leave a trace of each execution (the recovery tests count them).
@Sendable func record(_ context: inout TaskContext) throws -> Value {
    guard let path = context.variables["RECORD_FILE"], !path.isEmpty else { throw RecordError.noFile }
    let line = Array((context.task.description + "\n").utf8)
    let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw RecordError.cannotOpen(path, errno) }
    defer { close(descriptor) }
    let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    guard written == line.count else { throw RecordError.cannotOpen(path, errno) }
    return .string(context.task.description)
}

public enum RecordError: Error, CustomStringConvertible {
    case noFile
    case cannotOpen(String, Int32)

    public var description: String {
        switch self {
        case .noFile: "tessera.record needs the variable RECORD_FILE"
        case .cannotOpen(let path, let code): "tessera.record cannot append to \(path): \(String(cString: strerror(code)))"
        }
    }
}
