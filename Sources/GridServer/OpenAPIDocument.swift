/// The OpenAPI 3.0 description of the REST API, served at `/openapi.yaml` (CI checks the server against it
/// with schemathesis).
enum OpenAPIDocument {
    static let yaml = """
openapi: 3.1.0
info:
  title: Tessera grid REST API
  version: "1"
  description: >
    Jobs, tasks, logs and nodes of a running `tessera serve`. Send `Authorization: Bearer TOKEN` (a token of
    the users file); without a users file the server listens on loopback only and needs no token. Users see
    their own jobs only (another user's job is 404); administrators see every job and lock nodes.
servers:
  - url: /
security:
  - bearer: []
paths:
  /api/v1/jobs:
    get:
      summary: List jobs, newest first
      operationId: listJobs
      parameters:
        - {name: state, in: query, schema: {$ref: "#/components/schemas/JobState"}}
        - {name: owner, in: query, schema: {type: string}}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 100}}
        - {name: before, in: query, description: Only jobs with a smaller id (the next page), schema: {type: integer, format: int64, minimum: 0, maximum: 9223372036854775807}}
      responses:
        "200": {description: A page of jobs, content: {application/json: {schema: {$ref: "#/components/schemas/JobPage"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
    post:
      summary: Submit a workflow
      operationId: submitJob
      parameters:
        - name: var
          in: query
          description: NAME=VALUE job variable overrides (with a YAML body)
          schema: {type: array, items: {type: string, pattern: "^[^=]+=.*$"}}
          style: form
          explode: true
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [workflow]
              properties:
                workflow: {type: string, description: The workflow in YAML}
                variables: {type: object, additionalProperties: {type: string}}
          application/yaml:
            schema: {type: string}
      responses:
        "201":
          description: Submitted
          headers: {Location: {schema: {type: string}}}
          content: {application/json: {schema: {type: object, required: [id], properties: {id: {type: integer}}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
        "413": {$ref: "#/components/responses/Error"}
        "415": {$ref: "#/components/responses/Error"}
        "422": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
  /api/v1/jobs/{id}:
    parameters: [{$ref: "#/components/parameters/JobID"}]
    get:
      summary: A job and its tasks
      operationId: getJob
      responses:
        "200": {description: The job, content: {application/json: {schema: {$ref: "#/components/schemas/Job"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
    delete:
      summary: Remove an ended job from memory (it stays readable from the journal)
      operationId: removeJob
      responses:
        "204": {description: Removed}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "409": {$ref: "#/components/responses/Error"}
  /api/v1/jobs/{id}/result:
    parameters: [{$ref: "#/components/parameters/JobID"}]
    get:
      summary: Each task's result
      operationId: getResult
      responses:
        "200":
          description: Results by task instance
          content:
            application/json:
              schema:
                type: object
                required: [id, state, results]
                properties:
                  id: {type: integer}
                  state: {$ref: "#/components/schemas/JobState"}
                  results: {type: object, additionalProperties: {}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
  /api/v1/jobs/{id}/tasks:
    parameters: [{$ref: "#/components/parameters/JobID"}]
    get:
      summary: The job's task instances
      operationId: listTasks
      responses:
        "200": {description: Tasks, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Task"}}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
  /api/v1/jobs/{id}/tasks/{task}:
    parameters: [{$ref: "#/components/parameters/JobID"}, {$ref: "#/components/parameters/TaskName"}]
    get:
      summary: One task instance with its result
      operationId: getTask
      responses:
        "200": {description: The task, content: {application/json: {schema: {$ref: "#/components/schemas/Task"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
  /api/v1/jobs/{id}/tasks/{task}/logs:
    parameters: [{$ref: "#/components/parameters/JobID"}, {$ref: "#/components/parameters/TaskName"}]
    get:
      summary: A task's stdout and stderr (one text, streamed from the files); offset and limit select a byte range; with follow=true streamed as it grows until the task ends
      operationId: getTaskLogs
      parameters:
        - {name: follow, in: query, schema: {type: boolean}}
        - {name: offset, in: query, description: first byte, schema: {type: integer, format: int64, minimum: 0}}
        - {name: limit, in: query, description: most bytes, schema: {type: integer, format: int64, minimum: 0}}
      responses:
        "200": {description: The log, content: {text/plain: {schema: {type: string}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
  /api/v1/jobs/{id}/logs:
    parameters: [{$ref: "#/components/parameters/JobID"}]
    get:
      summary: Every task's logs, each after a [TASK] line
      operationId: getJobLogs
      responses:
        "200": {description: The logs, content: {text/plain: {schema: {type: string}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
  /api/v1/jobs/{id}/kill: {$ref: "#/components/pathItems/JobAction"}
  /api/v1/jobs/{id}/pause: {$ref: "#/components/pathItems/JobAction"}
  /api/v1/jobs/{id}/resume: {$ref: "#/components/pathItems/JobAction"}
  /api/v1/jobs/{id}/priority:
    parameters: [{$ref: "#/components/parameters/JobID"}]
    put:
      summary: Change the priority (HIGH and HIGHEST need an administrator)
      operationId: setPriority
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [priority]
              properties:
                priority: {type: string, enum: [IDLE, LOWEST, LOW, NORMAL, HIGH, HIGHEST]}
      responses:
        "200": {description: The job, content: {application/json: {schema: {$ref: "#/components/schemas/Job"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "409": {$ref: "#/components/responses/Error"}
        "413": {$ref: "#/components/responses/Error"}
  /api/v1/jobs/{id}/tasks/{task}/kill: {$ref: "#/components/pathItems/TaskAction"}
  /api/v1/jobs/{id}/tasks/{task}/restart: {$ref: "#/components/pathItems/TaskAction"}
  /api/v1/jobs/{id}/tasks/{task}/restart-in-error: {$ref: "#/components/pathItems/TaskAction"}
  /api/v1/jobs/{id}/tasks/{task}/finish-in-error: {$ref: "#/components/pathItems/TaskAction"}
  /api/v1/me:
    get:
      summary: Who the token names
      operationId: me
      responses:
        "200":
          description: The user
          content: {application/json: {schema: {type: object, required: [name, admin], properties: {name: {type: string}, admin: {type: boolean}}}}}
        "401": {$ref: "#/components/responses/Error"}
  /api/v1/jobs/{id}/graph:
    parameters: [{$ref: "#/components/parameters/JobID"}]
    get:
      summary: The workflow's tasks with their dependencies, flow controls and instances by state (the portal's graph)
      operationId: getGraph
      responses:
        "200":
          description: The graph
          content:
            application/json:
              schema:
                type: object
                required: [id, tasks, variables]
                properties:
                  id: {type: integer}
                  variables: {type: object, additionalProperties: {type: string}}
                  tasks:
                    type: array
                    items:
                      type: object
                      required: [name, depends, targets, instances, runs]
                      properties:
                        name: {type: string}
                        depends: {type: array, items: {type: string}}
                        flow: {type: string, enum: [replicate, loop, if]}
                        targets: {type: array, items: {type: string}}
                        block: {type: string, enum: [start, end]}
                        instances: {type: object, additionalProperties: {type: integer}}
                        runs: {type: string}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
  /api/v1/events:
    get:
      summary: Live changes as server-sent events (job, task with ?job=ID, nodes), coalesced every 250 ms; the stream stays open
      operationId: events
      parameters:
        - {name: job, in: query, description: Also the task changes of this job, schema: {type: integer, format: int64, minimum: 0, maximum: 9223372036854775807}}
      responses:
        "200": {description: "An endless text/event-stream: `event: job|task|nodes` and `data: JSON` lines", content: {text/event-stream: {schema: {type: string}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "429": {$ref: "#/components/responses/Error"}
  /api/v1/nodes/history:
    get:
      summary: The nodes' counts by state through time (a sample every 5 s, the last 2 hours)
      operationId: nodeHistory
      responses:
        "200":
          description: Samples, oldest first
          content:
            application/json:
              schema:
                type: object
                required: [interval, samples]
                properties:
                  interval: {type: number}
                  samples:
                    type: array
                    items:
                      type: object
                      required: [time, counts]
                      properties:
                        time: {type: number, description: Seconds since 1970}
                        counts: {type: object, additionalProperties: {type: integer}}
        "401": {$ref: "#/components/responses/Error"}
  /api/v1/nodes:
    get:
      summary: The nodes
      operationId: listNodes
      responses:
        "200": {description: Nodes, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Node"}}}}}
        "401": {$ref: "#/components/responses/Error"}
  /api/v1/quarantine:
    get:
      summary: Jobs whose journal rows do not read back (administrators), with the reason
      operationId: listQuarantine
      responses:
        "200":
          description: Quarantined jobs
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  required: [id, name, owner, reason, at, records]
                  properties:
                    id: {type: integer, format: int64}
                    name: {type: string}
                    owner: {type: string}
                    reason: {type: string}
                    at: {type: string, format: date-time}
                    records: {type: integer}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
  /api/v1/quarantine/{id}:
    parameters: [{$ref: "#/components/parameters/JobID"}]
    delete:
      summary: Drop a quarantined job and its raw rows for good (administrators)
      operationId: dropQuarantined
      responses:
        "204": {description: Dropped}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
  /api/v1/nodesources:
    get:
      summary: The node sources (the grid's own and the managed ones) with their nodes by state, hosts and usage
      operationId: listNodeSources
      responses:
        "200": {description: Node sources, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/NodeSource"}}}}}
        "401": {$ref: "#/components/responses/Error"}
    post:
      summary: Create and deploy a managed node source (administrators)
      description: "The body is a NodeSourceSpec. A grid without a cluster for agents to join (serve without --cluster-bind) answers 409."
      operationId: addNodeSource
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/NodeSourceSpec"}}}
      responses:
        "201": {description: The new source, content: {application/json: {schema: {$ref: "#/components/schemas/NodeSource"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
        "409": {$ref: "#/components/responses/Error"}
        "413": {$ref: "#/components/responses/Error"}
  /api/v1/nodesources/{name}:
    parameters: [{$ref: "#/components/parameters/SourceName"}]
    get:
      summary: One node source
      operationId: getNodeSource
      responses:
        "200": {description: The source, content: {application/json: {schema: {$ref: "#/components/schemas/NodeSource"}}}}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
    put:
      summary: Replace a managed source's infrastructure parameters and policy (administrators); its name and infrastructure type stay
      operationId: editNodeSource
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/NodeSourceSpec"}}}
      responses:
        "200": {description: The source, content: {application/json: {schema: {$ref: "#/components/schemas/NodeSource"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "413": {$ref: "#/components/responses/Error"}
    delete:
      summary: Remove a managed source (administrators)
      description: "Refused with 409 while its nodes hold work, unless force=true: then it drains first (202) and leaves once its hosts are released."
      operationId: removeNodeSource
      parameters: [{name: force, in: query, required: false, schema: {type: string, enum: ["true", "false"]}}]
      responses:
        "202": {description: Draining, content: {application/json: {schema: {$ref: "#/components/schemas/NodeSource"}}}}
        "204": {description: Removed}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "409": {$ref: "#/components/responses/Error"}
  /api/v1/nodesources/{name}/usage:
    parameters: [{$ref: "#/components/parameters/SourceName"}]
    get:
      summary: A managed source with its usage history (nodes by state every 5 s, the hosts' steps)
      operationId: nodeSourceUsage
      responses:
        "200": {description: The source, content: {application/json: {schema: {$ref: "#/components/schemas/NodeSource"}}}}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
  /api/v1/nodesources/{name}/deploy: {$ref: "#/components/pathItems/NodeSourceAction"}
  /api/v1/nodesources/{name}/undeploy: {$ref: "#/components/pathItems/NodeSourceAction"}
  /api/v1/nodes/{node}/lock: {$ref: "#/components/pathItems/NodeAction"}
  /api/v1/nodes/{node}/unlock: {$ref: "#/components/pathItems/NodeAction"}
  /openapi.yaml:
    get:
      summary: This document
      operationId: openapi
      security: []
      responses:
        "200": {description: OpenAPI 3, content: {application/yaml: {schema: {type: string}}}}
  /metrics:
    get:
      summary: Prometheus metrics (an administrator's token when the server has a users file; every tenant's counts show)
      operationId: metrics
      responses:
        "200": {description: Prometheus text format, content: {text/plain: {schema: {type: string}}}}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  parameters:
    JobID: {name: id, in: path, required: true, schema: {type: integer, format: int64, minimum: 0, maximum: 9223372036854775807}}
    TaskName: {name: task, in: path, required: true, description: "T, T#ITERATION, T*REPLICA or T#I*R", schema: {type: string}}
    SourceName: {name: name, in: path, required: true, schema: {type: string}}
  responses:
    Error:
      description: An error
      content:
        application/json:
          schema:
            type: object
            required: [code, message]
            properties:
              code: {type: string}
              message: {type: string}
              field: {type: string, description: "The request's field at fault, such as policy.maxNodes"}
  pathItems:
    NodeSourceAction:
      parameters: [{$ref: "#/components/parameters/SourceName"}]
      put:
        summary: Deploy (acquire as the policy says) or undeploy (release, draining what runs) a managed source (administrators)
        responses:
          "200": {description: The source, content: {application/json: {schema: {$ref: "#/components/schemas/NodeSource"}}}}
          "401": {$ref: "#/components/responses/Error"}
          "403": {$ref: "#/components/responses/Error"}
          "404": {$ref: "#/components/responses/Error"}
    JobAction:
      parameters: [{$ref: "#/components/parameters/JobID"}]
      put:
        responses:
          "200": {description: The job, content: {application/json: {schema: {$ref: "#/components/schemas/Job"}}}}
          "400": {$ref: "#/components/responses/Error"}
          "401": {$ref: "#/components/responses/Error"}
          "404": {$ref: "#/components/responses/Error"}
          "409": {$ref: "#/components/responses/Error"}
    TaskAction:
      parameters: [{$ref: "#/components/parameters/JobID"}, {$ref: "#/components/parameters/TaskName"}]
      put:
        responses:
          "200": {description: The task, content: {application/json: {schema: {$ref: "#/components/schemas/Task"}}}}
          "400": {$ref: "#/components/responses/Error"}
          "401": {$ref: "#/components/responses/Error"}
          "404": {$ref: "#/components/responses/Error"}
          "409": {$ref: "#/components/responses/Error"}
    NodeAction:
      parameters: [{name: node, in: path, required: true, schema: {type: integer, format: int32}}]
      put:
        responses:
          "200": {description: The node, content: {application/json: {schema: {$ref: "#/components/schemas/Node"}}}}
          "401": {$ref: "#/components/responses/Error"}
          "403": {$ref: "#/components/responses/Error"}
          "404": {$ref: "#/components/responses/Error"}
  schemas:
    JobState: {type: string, enum: [PENDING, RUNNING, STALLED, PAUSED, IN_ERROR, FINISHED, CANCELED, FAILED, KILLED]}
    TaskState:
      type: string
      enum: [SUBMITTED, PENDING, PAUSED, RUNNING, WAITING_ON_ERROR, WAITING_ON_FAILURE, FAILED, NOT_STARTED, NOT_RESTARTED, ABORTED, FAULTY, FINISHED, SKIPPED, IN_ERROR]
    Progress:
      type: object
      required: [done, total, running, failed]
      properties: {done: {type: integer}, total: {type: integer}, running: {type: integer}, failed: {type: integer}}
    Job:
      type: object
      required: [id, name, owner, state, priority, progress]
      properties:
        id: {type: integer}
        name: {type: string}
        owner: {type: string}
        state: {$ref: "#/components/schemas/JobState"}
        priority: {type: string, enum: [IDLE, LOWEST, LOW, NORMAL, HIGH, HIGHEST]}
        progress: {$ref: "#/components/schemas/Progress"}
        tasks: {type: array, items: {$ref: "#/components/schemas/Task"}}
        logs: {type: string}
        submitted: {type: string, format: date-time}
        started: {type: string, format: date-time}
        ended: {type: string, format: date-time}
    JobPage:
      type: object
      required: [jobs]
      properties:
        jobs: {type: array, items: {$ref: "#/components/schemas/Job"}}
        next: {type: integer, description: The before of the next page}
    Task:
      type: object
      required: [name, state, executions, alreadyDone]
      properties:
        name: {type: string}
        state: {$ref: "#/components/schemas/TaskState"}
        executions: {type: integer}
        node: {type: integer}
        host: {type: string, description: The host of its last execution (an agent's cluster address, or the server's host name)}
        duration: {type: number, description: "Seconds its last execution ran, once it ended, by the clock of the node that ran it"}
        message: {type: string}
        alreadyDone: {type: boolean}
        result: {}
    Node:
      type: object
      required: [id, node, host, source, state, locked, labels, running, capacity]
      properties:
        id: {type: integer}
        node: {type: string, description: "node-ID"}
        host: {type: string, description: The server's host name for local nodes, the agent's cluster address for agents' nodes}
        source: {type: string}
        state: {type: string, enum: [FREE, BUSY, DOWN, LOST, DEPLOYING, CONFIGURING, TO_BE_REMOVED]}
        locked: {type: boolean}
        labels: {type: array, items: {type: string}}
        running: {type: integer}
        capacity: {type: integer}
    NodeSourceSpec:
      type: object
      description: "A managed node source. Durations are strings such as 500ms, 30s, 5m, 1h. Bounds: name 1-64 of [A-Za-z0-9._-] (not local or agents), rank 0-1000, 1-4096 nodes per host, at most 1000 hosts, durations 1 ms to 7 days, commands of 4096 bytes, 256 KiB in all."
      required: [name, infrastructure, policy]
      additionalProperties: false
      properties:
        name: {type: string, maxLength: 64}
        rank: {type: integer, minimum: 0, maximum: 1000, description: "Lower ranks are filled first (default 10; the local nodes and joining agents are 0)"}
        users: {type: array, items: {type: string}, description: Only these users' jobs run on its nodes}
        deploymentTimeout: {type: string, description: "A host not joined this long after its request is failed and released (default 2m)"}
        drainTimeout: {type: string, description: "A draining host's work running past this is queued again elsewhere (default 10m)"}
        budget: {type: number, minimum: 0, description: What the source may spend in a UTC day}
        evictionCountsAsFailure: {type: boolean}
        billing:
          type: object
          additionalProperties: false
          properties: {unit: {type: string, enum: [second, minute, hour]}, minimum: {type: string}}
        infrastructure:
          type: object
          required: [type]
          additionalProperties: false
          properties:
            type: {type: string, enum: [processes, command]}
            nodesPerHost: {type: integer, minimum: 1, maximum: 4096}
            pricePerHostHour: {type: number, minimum: 0}
            bootDelay: {type: string, description: "processes: a delay or a range (1s, 500ms-2s) before each agent starts"}
            seed: {type: integer, minimum: 0}
            acquire: {type: string, description: "command: starts a host; placeholders {name} {count} {join} {token} {keyFile} {nodesPerHost} {source}"}
            release: {type: string, description: "command: stops {name} ({handle})"}
            list: {type: string, description: "command: prints NAME [HANDLE] per host that exists"}
        policy:
          type: object
          required: [type]
          additionalProperties: false
          properties:
            type: {type: string, enum: [static, dynamic, scheduled, tessera]}
            hosts: {type: integer, minimum: 0, maximum: 1000}
            minNodes: {type: integer, minimum: 0}
            maxNodes: {type: integer, minimum: 0}
            minHosts: {type: integer, minimum: 0, maximum: 1000}
            maxHosts: {type: integer, minimum: 0, maximum: 1000}
            loadFactor: {type: number, exclusiveMinimum: 0}
            loadFactorRoundingUp: {type: boolean}
            refreshTime: {type: string}
            initDelay: {type: string}
            minUptime: {type: string}
            releaseWithin: {type: string}
            billingAware: {type: boolean}
            windows: {type: array, items: {type: string, description: "Mon-Fri 08:00-20:00 (UTC)"}}
    NodeSource:
      type: object
      required: [name, managed, infrastructure, policy, rank, nodes, counts]
      properties:
        name: {type: string}
        managed: {type: boolean}
        infrastructure: {type: string}
        policy: {type: string}
        rank: {type: integer}
        state: {type: string, enum: [deployed, undeployed, removing]}
        spec: {$ref: "#/components/schemas/NodeSourceSpec"}
        nodes: {type: array, items: {$ref: "#/components/schemas/Node"}}
        counts: {type: object, additionalProperties: {type: integer}, description: Nodes by state, DEPLOYING and CONFIGURING included}
        hosts:
          type: array
          items:
            type: object
            required: [name, phase, requested, busy, adopting]
            properties:
              name: {type: string}
              phase: {type: string, enum: [DEPLOYING, CONFIGURING, UP, TO_BE_REMOVED]}
              handle: {type: string}
              address: {type: string}
              session: {type: integer}
              requested: {type: string, format: date-time}
              busy: {type: integer}
              adopting: {type: boolean}
        usage:
          type: object
          properties:
            hostHours: {type: number}
            cost: {type: number}
            pricePerHostHour: {type: number}
            billing: {type: string}
            budgetPerDay: {type: number}
            acquisitions: {type: object, additionalProperties: {type: integer}}
            readySeconds: {type: object, properties: {p50: {type: number}, p95: {type: number}}}
            steps: {type: array, items: {type: object}}
            history: {type: array, items: {type: object}}
        failuresInRow: {type: integer}
        lastFailure: {type: string}
        releasing: {type: integer}

"""
}
