import Foundation
import Yams

/// The YAML workflow format.
///
/// ```yaml
/// name: tiles                          # required, at least 2 characters
/// priority: normal                     # idle|lowest|low|normal|high|highest (any case) or 0-5; default normal
/// onTaskError: continueJobExecution    # cancelJob|suspendTask|pauseJob|continueJobExecution|none; default none
/// maxNumberOfExecution: 2              # integer ≥ 1; default 1
/// taskRetryDelay: "00:05"              # default: ProActive's growing delay (2 s, 4 s, 7 s, 11 s, …)
/// restartTaskOnError: elsewhere        # anywhere|elsewhere; default anywhere
/// workingDir: /data/run                # optional
/// variables:                           # ordered; NAME: scalar, or NAME: {value: …}
///   TILES: 4                           # scalars become text: 4 → "4", true → "true"
///   OUT: "/tmp/${TILES}"
///   AGAIN: false
/// genericInfo: {START_AT: "2026-11-28T12:00:00Z", NODE_ACCESS_TOKEN: gpu}   # not substituted
/// tasks:                               # ordered, keyed by task name (no `#`, `*`, `/` or blanks)
///   split:
///     script: {language: bash, code: "echo 4 > $TESSERA_RESULT_FILE", arguments: [a, b]}
///     replicate: {runs: "${TILES}"}    # `runs` omitted or `result`: the task's result decides
///   tile:
///     depends: [split]                 # a name or a list of names
///     command: [gdal_translate, "${IN}", out.tif]
///     variables: {IN: "${OUT}/in.tif", X: 1, Y: {value: 2, inherited: true}}
///     walltime: "01:00"
///     outputs: ["tiles/*.tif"]
///     selection: {labels: [ssd], token: gpu}
///     onTaskError: suspendTask
///     maxNumberOfExecution: 3
///     taskRetryDelay: 2s
///     restartTaskOnError: anywhere
///     genericInfo: {NODE_SOURCE: gpus}
///   fn:
///     depends: [tile]
///     function: tiles.mean             # a function registered in the grid
///     input: {bands: [1, 2], scale: 0.5, label: mean, strict: true}   # any YAML, as a `Value`
///     block: start                     # start|end|none; default none
///   loopEnd:
///     depends: [fn]
///     command: [true]
///     block: end
///     loop: {target: fn, while: "${AGAIN}"}   # `while` omitted or `result`: the task's result decides
///   cond:
///     depends: [loopEnd]
///     command: [true]
///     if: {target: a, else: b, continuation: c, branch: "if"}   # `branch` omitted or `result`: the result decides
///   a:
///     script: {language: python3, file: scripts/a.py}           # `file` instead of `code`
///   b:
///     command: [echo, b]
///   c:
///     command: [echo, "${TESSERA_TASK_NAME}"]
/// ```
///
/// - Each task has exactly one of `script` (the language defaults to `bash`), `command` (argv, looked up
///   on PATH) or `function`; `input` goes only with `function`.
/// - A task has at most one of `replicate`, `loop` and `if`. The `if` target, `else` and `continuation`
///   do not list the initiator in `depends`: that link is implicit.
/// - Durations are ProActive's `ss`, `mm:ss`, `hh:mm:ss`, or a number with `ms`, `s`, `m` or `h`.
/// - `${NAME}` refers to a job variable, a variable of the task or of a task upstream, or a
///   ``SystemVariables`` name; `$NAME` and `$$` are left to the shell.
/// - Task variables take `{value: …, inherited: true}` to prefer the value propagated from upstream.
/// - `priority`, `onTaskError`, `maxNumberOfExecution`, `taskRetryDelay` and `restartTaskOnError` (job or
///   task) may refer to job variables (`"${RETRIES}"`), resolved with the submission's values first.
extension Workflow {
    /// Loads and validates a workflow written in the YAML format above.
    ///
    /// Every problem is reported at once, the loader's (syntax, shapes, unknown keys, repeated keys) and
    /// the validator's (see ``validate()``), each with its line and column. ``locations`` records where
    /// every field was, under paths such as `tasks.tile.depends`.
    /// - Parameters:
    ///   - text: The YAML text.
    ///   - file: The file's name, for the messages.
    /// - Throws: ``WorkflowError`` listing every problem, when there is at least one.
    ///   - variables: values given at submission for job variables; `${NAME}` in the scheduling
    ///     attributes (priority, onTaskError, maxNumberOfExecution, taskRetryDelay, restartTaskOnError)
    ///     resolves with them, then with the variables' defaults, as in ProActive.
    public init(yaml text: String, file: String? = nil, variables: [String: String] = [:], limits: InputLimits = .default) throws(WorkflowError) {
        let root: Node?
        var reader: WorkflowYAMLReader
        switch WorkflowYAMLReader.compose(text) {
        case .failure(let problem):
            throw WorkflowError(problems: [problem], file: file)
        case .tree(let node, let shifts):
            root = node
            reader = WorkflowYAMLReader(shifts: shifts, overrides: variables)
        }
        guard let root else {
            throw WorkflowError(
                problems: [WorkflowProblem(.missingField, path: "", message: "the document is empty; a workflow needs `name` and `tasks`")],
                file: file
            )
        }
        if let problem = WorkflowYAMLReader.sizeProblem(of: root, limits: limits) {
            throw WorkflowError(problems: [problem], file: file)
        }
        guard case .mapping = root else {
            reader.reportWrongType(root, "", expected: "a mapping with `name`, `tasks` and the other workflow keys")
            throw WorkflowError(problems: reader.problems, file: file)
        }
        let workflow = reader.readWorkflow(root)
        let validation = workflow.validationProblems(limits: limits).filter { !reader.isShadowed($0.path) }
        let problems = (reader.problems + validation).sortedByLocation()
        guard problems.isEmpty else { throw WorkflowError(problems: problems, file: file) }
        self = workflow
    }

    /// Loads and validates the YAML workflow in the file at `path`.
    ///
    /// - Parameter path: The file's path; messages name it.
    /// - Throws: ``WorkflowError`` with an ``WorkflowProblem/Code/unreadableFile`` problem when the file
    ///   cannot be read, or the problems ``init(yaml:file:)`` finds.
    public init(contentsOfFile path: String, variables: [String: String] = [:], limits: InputLimits = .default) throws(WorkflowError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw WorkflowError(
                problems: [WorkflowProblem(.unreadableFile, path: "", message: "cannot read the workflow: \(error.localizedDescription)")],
                file: path
            )
        }
        try self.init(yaml: text, file: path, variables: variables, limits: limits)
    }
}

extension WorkflowYAMLReader {
    /// The keys a workflow may have at its top level.
    static let workflowKeys = [
        "name", "priority", "onTaskError", "maxNumberOfExecution", "taskRetryDelay", "restartTaskOnError",
        "workingDir", "variables", "genericInfo", "tasks",
    ]

    /// Reads the top-level mapping; tasks are read by ``readTask(_:)``.
    mutating func readWorkflow(_ root: Node) -> Workflow {
        var workflow = Workflow(name: "", tasks: [])
        locations[""] = location(of: root)
        let fields = fields(of: root, at: "", what: "the workflow", allowed: Self.workflowKeys) ?? [:]
        if let entry = fields["name"] {
            workflow.name = text(entry.value, entry.path) ?? ""
        }
        // Variables first: the scheduling attributes below may refer to them.
        if let entry = fields["variables"] {
            workflow.variables = readVariables(entry, taskLevel: false)
        }
        jobValues = VariableSubstitution.jobValues(workflow.variables, overrides: overrides)
        if let entry = fields["priority"], let text = text(resolved(entry.value), entry.path) {
            if let priority = JobPriority(name: String(text.trimmingWhitespace())) {
                workflow.priority = priority
            } else {
                let names = JobPriority.allCases.map { $0.description.lowercased() }
                reportInvalid(
                    entry.value, entry.path,
                    "`priority` cannot be `\(text)`\(NameSuggestion.hint(for: text, among: names)); use one of \(names.joined(separator: ", ")) or 0-5"
                )
            }
        }
        if let entry = fields["onTaskError"], let policy = choice(resolved(entry.value), entry.path, as: OnTaskError.self) {
            workflow.onTaskError = policy
        }
        if let entry = fields["maxNumberOfExecution"], let count = integer(resolved(entry.value), entry.path) {
            workflow.maxNumberOfExecution = count
        }
        if let entry = fields["taskRetryDelay"] {
            workflow.taskRetryDelay = duration(resolved(entry.value), entry.path)
        }
        if let entry = fields["restartTaskOnError"], let mode = choice(resolved(entry.value), entry.path, as: RestartMode.self) {
            workflow.restartTaskOnError = mode
        }
        if let entry = fields["workingDir"] {
            workflow.workingDirectory = text(entry.value, entry.path)
        }
        if let entry = fields["genericInfo"] {
            workflow.genericInfo = readGenericInfo(entry)
        }
        if let entry = fields["tasks"] {
            let tasks = entries(of: entry.value, at: entry.path, what: "tasks (a mapping from task name to task)", duplicate: .duplicateTask)
            for taskEntry in tasks ?? [] {
                record(taskEntry)
                workflow.tasks.append(readTask(taskEntry))
            }
        }
        workflow.locations = locations
        return workflow
    }
}
