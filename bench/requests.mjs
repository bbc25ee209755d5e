// The Gemini requests the benchmark sends: a small text request, a ~40 KB request shaped like Gemini CLI 0.61's main
// turn (a ~30 KB system prompt, 16 tool declarations with parametersJsonSchema, a short history with a function call
// and its response, thinking config), and the streaming variants. Deterministic: the same bytes on every run.

const GUIDELINES = [
  [
    'Core Mandates',
    [
      '**Conventions:** Rigorously adhere to existing project conventions when reading or modifying code. Analyze surrounding code, tests, and configuration first.',
      "**Libraries/Frameworks:** NEVER assume a library/framework is available or appropriate. Verify its established usage within the project (check imports, configuration files like 'package.json', 'Cargo.toml', 'requirements.txt', 'build.gradle', etc., or observe neighboring files) before employing it.",
      '**Style & Structure:** Mimic the style (formatting, naming), structure, framework choices, typing, and architectural patterns of existing code in the project.',
      '**Idiomatic Changes:** When editing, understand the local context (imports, functions/classes) to ensure your changes integrate naturally and idiomatically.',
      '**Comments:** Add code comments sparingly. Focus on *why* something is done, especially for complex logic, rather than *what* is done. *NEVER* talk to the user or describe your changes through comments.',
      "**Proactiveness:** Fulfill the user's request thoroughly. When adding features or fixing bugs, this includes adding tests to ensure quality. Consider all created files, especially tests, to be permanent artifacts unless the user says otherwise.",
      "**Confirm Ambiguity/Expansion:** Do not take significant actions beyond the clear scope of the request without confirming with the user. If asked *how* to do something, explain first, don't just do it.",
      '**Explaining Changes:** After completing a code modification or file operation *do not* provide summaries unless asked.',
      '**Do Not revert changes:** Do not revert changes to the codebase unless asked to do so by the user. Only revert changes made by you if they have resulted in an error or if the user has explicitly asked you to revert the changes.',
    ],
  ],
  [
    'Primary Workflows',
    [
      "**Understand:** Think about the user's request and the relevant codebase context. Use 'grep_search' and 'glob' search tools extensively (in parallel if independent) to understand file structures, existing code patterns, and conventions.",
      "**Plan:** Build a coherent and grounded (based on the understanding in step 1) plan for how you intend to resolve the user's task. Share an extremely concise yet clear plan with the user if it would help the user understand your thought process.",
      "**Implement:** Use the available tools (e.g., 'replace', 'write_file' 'run_shell_command' ...) to act on the plan, strictly adhering to the project's established conventions (detailed under 'Core Mandates').",
      "**Verify (Tests):** If applicable and feasible, verify the changes using the project's testing procedures. Identify the correct test commands and frameworks by examining 'README' files, build/package configuration (e.g., 'package.json'), or existing test execution patterns. NEVER assume standard test commands.",
      "**Verify (Standards):** VERY IMPORTANT: After making code changes, execute the project-specific build, linting and type-checking commands (e.g., 'tsc', 'npm run lint', 'ruff check .') that you have identified for this project (or obtained from the user).",
      "**Finalize:** After all verification passes, consider the task complete. Do not remove or revert any changes or created files (like tests). Await the user's next instruction.",
    ],
  ],
  [
    'Operational Guidelines',
    [
      '**Concise & Direct:** Adopt a professional, direct, and concise tone suitable for a CLI environment.',
      "**Minimal Output:** Aim for fewer than 3 lines of text output (excluding tool use/code generation) per response whenever practical. Focus strictly on the user's query.",
      '**Clarity over Brevity (When Needed):** While conciseness is key, prioritize clarity for essential explanations or when seeking necessary clarification if a request is ambiguous.',
      '**No Chitchat:** Avoid conversational filler, preambles ("Okay, I will now..."), or postambles ("I have finished the changes..."). Get straight to the action or answer.',
      '**Formatting:** Use GitHub-flavored Markdown. Responses will be rendered in monospace.',
      '**Tools vs. Text:** Use tools for actions, text output *only* for communication. Do not add explanatory comments within tool calls or code blocks unless specifically part of the required code/command itself.',
      '**Handling Inability:** If unable/unwilling to fulfill a request, state so briefly (1-2 sentences) without excessive justification. Offer alternatives if appropriate.',
    ],
  ],
  [
    'Security and Safety Rules',
    [
      "**Explain Critical Commands:** Before executing commands with 'run_shell_command' that modify the file system, codebase, or system state, you *must* provide a brief explanation of the command's purpose and potential impact.",
      '**Security First:** Always apply security best practices. Never introduce code that exposes, logs, or commits secrets, API keys, or other sensitive information.',
    ],
  ],
  [
    'Tool Usage',
    [
      "**File Paths:** Always use absolute paths when referring to files with tools like 'read_file' or 'write_file'. Relative paths are not supported. You must provide an absolute path.",
      '**Parallelism:** Execute multiple independent tool calls in parallel when feasible (i.e. searching the codebase).',
      "**Command Execution:** Use the 'run_shell_command' tool for running shell commands, remembering the safety rule to explain modifying commands first.",
      '**Background Processes:** Use background processes (via `&`) for commands that are unlikely to stop on their own, e.g. `node server.js &`. If unsure, ask the user.',
      '**Interactive Commands:** Try to avoid shell commands that are likely to require user interaction (e.g. `git rebase -i`). Use non-interactive versions of commands (e.g. `npm init -y` instead of `npm init`) when available.',
      "**Remembering Facts:** Use the 'save_memory' tool to remember specific, *user-related* facts or preferences when the user explicitly asks, or when they state a clear, concise piece of information that would help personalize or streamline *your future interactions with them*.",
      "**Respect User Confirmations:** Most tool calls (also denoted as 'function calls') will first require confirmation from the user, where they will either approve or cancel the function call. If a user cancels a function call, respect their choice and do _not_ try to make the function call again.",
    ],
  ],
  [
    'Git Repository',
    [
      '- The current working (project) directory is being managed by a git repository.',
      '- When asked to commit changes or prepare a commit, always start by gathering information using shell commands: `git status`, `git diff HEAD`, `git log -n 3`.',
      '- Always propose a draft commit message. Never just ask the user to give you the full commit message.',
      '- Prefer commit messages that are clear, concise, and focused more on "why" and less on "what".',
      '- After each commit, confirm that it was successful by running `git status`.',
      '- Never push changes to a remote repository without being asked explicitly by the user.',
    ],
  ],
];

const EXAMPLES = [
  ['1 + 2', '3'],
  ['is 13 a prime number?', 'true'],
  ['list files here.', "[tool_call: list_directory for path '/path/to/project']"],
  [
    'start the server implemented in server.js',
    "[tool_call: run_shell_command for 'node server.js &' because it must run in the background]",
  ],
  [
    'Refactor the auth logic in src/auth.py to use the requests library instead of urllib.',
    "Okay, I can refactor 'src/auth.py'.\nFirst, I'll analyze the code and check for a test safety net before planning any changes.\n[tool_call: glob for path 'tests/test_auth.py']\n[tool_call: read_file for absolute_path '/path/to/tests/test_auth.py']\n(After analysis)\nGreat, 'tests/test_auth.py' exists and covers the core authentication logic.\nI'll also confirm 'requests' is a dependency.\n[tool_call: read_file for absolute_path '/path/to/requirements.txt']",
  ],
  [
    'Delete the temp directory.',
    'I can run `rm -rf /path/to/project/temp`. This will permanently delete the directory and all its contents.',
  ],
  [
    "Where are all the 'app.config' files in this project? I need to check their settings.",
    "[tool_call: glob for pattern '**/app.config']\n(Assuming GlobTool returns a list of paths like ['/path/to/moduleA/app.config', '/path/to/moduleB/app.config'])\nI found the following 'app.config' files:\n- /path/to/moduleA/app.config\n- /path/to/moduleB/app.config\nTo help you check their settings, I can read their contents. Which one would you like to start with, or should I read all of them?",
  ],
];

/** A GEMINI.md-style project memory, generated to pad the system prompt to its target size. */
function projectMemory(targetChars) {
  const areas = [
    'config',
    'server',
    'translate',
    'upstream',
    'providers',
    'errors',
    'logging',
    'tokenizer',
    'cli',
    'tests',
  ];
  const verbs = [
    'parses',
    'validates',
    'translates',
    'streams',
    'retries',
    'redacts',
    'caches',
    'counts',
    'maps',
    'reports',
  ];
  let text = '\n# Contextual Instructions (GEMINI.md)\n\n## Project: example-service\n\n';
  let index = 0;
  while (text.length < targetChars) {
    const area = areas[index % areas.length];
    const verb = verbs[(index * 7) % verbs.length];
    text +=
      `### ${area}/module-${index}.ts\n` +
      `- Owner: team-${(index * 13) % 17}. This module ${verb} "${area}" records; keep functions pure and under 60 lines.\n` +
      `- Tests live in \`test/${area}/module-${index}.test.ts\`; run \`npm test -- --grep '${area} ${index}'\` before committing.\n` +
      `- Never log values of fields named \`token\`, \`secret\` or \`password\`; use the redact() helper → "[REDACTED]".\n` +
      `- Error messages are full sentences — they are shown to end users verbatim <like this>.\n\n`;
    index += 1;
  }
  return text;
}

export function buildSystemPrompt(targetChars = 30_000) {
  let text =
    'You are an interactive CLI agent specializing in software engineering tasks. Your primary goal is to help users safely and efficiently, adhering strictly to the following instructions and utilizing your available tools.\n\n';
  for (const [title, items] of GUIDELINES) {
    text += `# ${title}\n\n`;
    items.forEach((item, position) => {
      text += item.startsWith('-') ? `${item}\n` : `${position + 1}. ${item}\n`;
    });
    text += '\n';
  }
  text += '# Examples (Illustrating Tone and Workflow)\n';
  for (const [user, model] of EXAMPLES) text += `<example>\nuser: ${user}\nmodel: ${model}\n</example>\n\n`;
  text +=
    "# Final Reminder\nYour core function is efficient and safe assistance. Balance extreme conciseness with the crucial need for clarity, especially regarding safety and potential system modifications. Always prioritize user control and project conventions. Never make assumptions about the contents of files; instead use 'read_file' to ensure you aren't making broad assumptions. Finally, you are an agent - please keep going until the user's query is completely resolved.\n";
  return text + projectMemory(targetChars - text.length);
}

const str = (description) => ({ type: 'string', description });

/** 16 declarations shaped like Gemini CLI 0.61's built-in tools (names, parameter shapes, description lengths). */
export const TOOL_DECLARATIONS = [
  {
    name: 'read_file',
    description:
      "Reads and returns the content of a specified file. If the file is large, the content will be truncated. The tool's response will clearly indicate if truncation has occurred and will provide details on how to read more of the file using the 'start_line' and 'end_line' parameters. Handles text, images (PNG, JPG, GIF, WEBP, SVG, BMP), audio files (MP3, WAV, AIFF, AAC, OGG, FLAC), and PDF files. For text files, it can read specific line ranges.",
    parametersJsonSchema: {
      type: 'object',
      properties: {
        file_path: str('The path to the file to read.'),
        start_line: {
          description: 'Optional: The 1-based line number to start reading from.',
          type: 'integer',
          minimum: 1,
        },
        end_line: {
          description: 'Optional: The 1-based line number to end reading at (inclusive).',
          type: 'integer',
          minimum: 1,
        },
      },
      required: ['file_path'],
    },
  },
  {
    name: 'write_file',
    description:
      'Writes content to a specified file in the local filesystem.\n\n      The user has the ability to modify `content`. If modified, this will be stated in the response.',
    parametersJsonSchema: {
      type: 'object',
      properties: {
        file_path: str('The path to the file to write to.'),
        content: str(
          "The content to write to the file. Do not use omission placeholders like '(rest of methods ...)', '...', or 'unchanged code'; provide complete literal content.",
        ),
      },
      required: ['file_path', 'content'],
    },
  },
  {
    name: 'grep_search',
    description: 'Searches for a regular expression pattern within file contents. Max 100 matches.',
    parametersJsonSchema: {
      type: 'object',
      properties: {
        pattern: str(
          "The regular expression (regex) pattern to search for within file contents (e.g., 'function\\s+myFunction', 'import\\s+\\{.*\\}\\s+from\\s+.*').",
        ),
        dir_path: str(
          'Optional: The absolute path to the directory to search within. If omitted, searches the current working directory.',
        ),
        include: str(
          "Optional: A glob pattern to filter which files are searched (e.g., '*.js', '*.{ts,tsx}', 'src/**'). If omitted, searches all files (respecting potential global ignores).",
        ),
        case_sensitive: {
          type: 'boolean',
          description: 'Optional: Whether the search is case-sensitive. Defaults to false.',
        },
        fixed_strings: {
          type: 'boolean',
          description: 'Optional: Treat the pattern as a literal string instead of a regular expression.',
        },
        context: {
          type: 'integer',
          description: 'Optional: Lines of context to show around each match.',
          minimum: 0,
          maximum: 20,
        },
      },
      required: ['pattern'],
    },
  },
  {
    name: 'glob',
    description:
      'Efficiently finds files matching specific glob patterns (e.g., `src/**/*.ts`, `**/*.md`), returning absolute paths sorted by modification time (newest first). Ideal for quickly locating files based on their name or path structure, especially in large codebases.',
    parametersJsonSchema: {
      type: 'object',
      properties: {
        pattern: str("The glob pattern to match against (e.g., '**/*.py', 'docs/*.md')."),
        dir_path: str(
          'Optional: The absolute path to the directory to search within. If omitted, searches the root directory.',
        ),
        case_sensitive: {
          type: 'boolean',
          description: 'Optional: Whether the search should be case-sensitive. Defaults to false.',
        },
        respect_git_ignore: {
          type: 'boolean',
          description:
            'Optional: Whether to respect .gitignore patterns when finding files. Only available in git repositories. Defaults to true.',
        },
        respect_gemini_ignore: {
          type: 'boolean',
          description: 'Optional: Whether to respect .geminiignore patterns when finding files. Defaults to true.',
        },
      },
      required: ['pattern'],
    },
  },
  {
    name: 'list_directory',
    description:
      'Lists the names of files and subdirectories directly within a specified directory path. Can optionally ignore entries matching provided glob patterns.',
    parametersJsonSchema: {
      type: 'object',
      properties: {
        dir_path: str('The path to the directory to list'),
        ignore: { description: 'List of glob patterns to ignore', items: { type: 'string' }, type: 'array' },
        file_filtering_options: {
          description: 'Optional: Whether to respect ignore patterns from .gitignore or .geminiignore',
          type: 'object',
          properties: {
            respect_git_ignore: {
              description:
                'Optional: Whether to respect .gitignore patterns when listing files. Only available in git repositories. Defaults to true.',
              type: 'boolean',
            },
            respect_gemini_ignore: {
              description: 'Optional: Whether to respect .geminiignore patterns when listing files. Defaults to true.',
              type: 'boolean',
            },
          },
        },
      },
      required: ['dir_path'],
    },
  },
  {
    name: 'replace',
    description:
      "Replaces text within a file. By default, replaces a single occurrence, but can replace multiple occurrences when `expected_replacements` is specified. This tool requires providing significant context around the change to ensure precise targeting. Always use the read_file tool to examine the file's current content before attempting a text replacement.\n\n      The user has the ability to modify the `new_string` content. If modified, this will be stated in the response.\n\nExpectation for required parameters:\n1. `old_string` MUST be the exact literal text to replace (including all whitespace, indentation, newlines, and surrounding code etc.).\n2. `new_string` MUST be the exact literal text to replace `old_string` with (also including all whitespace, indentation, newlines, and surrounding code etc.). Ensure the resulting code is correct and idiomatic and that `old_string` and `new_string` are different.\n3. `instruction` is the detailed instruction of what needs to be changed.\n4. NEVER escape `old_string` or `new_string`, that would break the exact literal text requirement.\n**Important:** If ANY of the above are not satisfied, the tool will fail. CRITICAL for `old_string`: Must uniquely identify the single instance to change. Include at least 3 lines of context BEFORE and AFTER the target text, matching whitespace and indentation precisely.",
    parametersJsonSchema: {
      type: 'object',
      properties: {
        file_path: str('The path to the file to modify.'),
        instruction: str(
          'A clear, semantic instruction for the code change, acting as a high-quality prompt for an expert LLM assistant. It must be self-contained and explain the goal of the change.',
        ),
        old_string: str(
          'The exact literal text to replace, preferably unescaped. For single replacements (default), include at least 3 lines of context BEFORE and AFTER the target text, matching whitespace and indentation precisely.',
        ),
        new_string: str(
          'The exact literal text to replace `old_string` with, preferably unescaped. Provide the EXACT text. Ensure the resulting code is correct and idiomatic.',
        ),
        expected_replacements: {
          type: 'number',
          description:
            'Number of replacements expected. Defaults to 1 if not specified. Use when you want to replace multiple occurrences.',
          minimum: 1,
        },
      },
      required: ['file_path', 'instruction', 'old_string', 'new_string'],
    },
  },
  {
    name: 'run_shell_command',
    description:
      'This tool executes a given shell command as `bash -c <command>`. Command can start background processes using `&`. Command is executed as a subprocess that leads its own process group. Command process group can be terminated as `kill -- -PGID` or signaled as `kill -s SIGNAL -- -PGID`.\n\n      The following information is returned:\n\n      Command: Executed command.\n      Directory: Directory where command was executed, or `(root)`.\n      Stdout: Output on stdout stream. Can be `(empty)` or partial on error and for any unwaited background processes.\n      Stderr: Output on stderr stream. Can be `(empty)` or partial on error and for any unwaited background processes.\n      Error: Error or `(none)` if no error was reported for the subprocess.\n      Exit Code: Exit code or `(none)` if terminated by signal.\n      Signal: Signal number or `(none)` if no signal was received.\n      Background PIDs: List of background processes started or `(none)`.\n      Process Group PGID: Process group started or `(none)`',
    parametersJsonSchema: {
      type: 'object',
      properties: {
        command: str('Exact bash command to execute as `bash -c <command>`'),
        description: str(
          'Brief description of the command for the user. Be specific and concise. Ideally a single sentence. Can be up to 3 sentences for clarity. No line breaks.',
        ),
        dir_path: str(
          '(OPTIONAL) The path of the directory to run the command in. If not provided, the project root directory is used. Must be a directory within the workspace and must already exist.',
        ),
        is_background: {
          type: 'boolean',
          description:
            'Set to true if this command should be run in the background (e.g. for long-running servers or watchers).',
        },
      },
      required: ['command'],
    },
  },
  {
    name: 'google_web_search',
    description:
      'Performs a web search using Google Search (via the Gemini API) and returns the results. This tool is useful for finding information on the internet based on a query.',
    parametersJsonSchema: {
      type: 'object',
      properties: { query: str('The search query to find information on the web.') },
      required: ['query'],
    },
  },
  {
    name: 'web_fetch',
    description:
      "Processes content from URL(s), including local and private network addresses (e.g., localhost), embedded in a prompt. Include up to 20 URLs and instructions (e.g., summarize, extract specific data) directly in the 'prompt' parameter.",
    parametersJsonSchema: {
      type: 'object',
      properties: {
        prompt: str(
          'A comprehensive prompt that includes the URL(s) (up to 20) to fetch and specific instructions on how to process their content (e.g., "Summarize https://example.com/article and extract key points from https://another.com/data"). Must contain as least one URL starting with http:// or https://.',
        ),
      },
      required: ['prompt'],
    },
  },
  {
    name: 'read_many_files',
    description:
      "Reads content from multiple files specified by glob patterns within a configured target directory. For text files, it concatenates their content into a single string. It is primarily designed for text-based files. However, it can also process image (e.g., .png, .jpg) and PDF (.pdf) files if their file names or extensions are explicitly included in the 'include' argument.\n\nThis tool is useful when you need to understand or analyze a collection of files, such as:\n- Getting an overview of a codebase or parts of it (e.g., all TypeScript files in the 'src' directory).\n- Finding where specific functionality is implemented if the user asks broad questions about code.\n- Reviewing documentation files (e.g., all Markdown files in the 'docs' directory).",
    parametersJsonSchema: {
      type: 'object',
      properties: {
        include: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          minItems: 1,
          description: 'An array of glob patterns or paths. Examples: ["src/**/*.ts"], ["README.md", "docs/"]',
        },
        exclude: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          description:
            'Optional. Glob patterns for files/directories to exclude. Added to default excludes if useDefaultExcludes is true.',
          default: [],
        },
        recursive: {
          type: 'boolean',
          description:
            'Optional. Whether to search recursively (primarily controlled by `**` in glob patterns). Defaults to true.',
          default: true,
        },
        useDefaultExcludes: {
          type: 'boolean',
          description:
            'Optional. Whether to apply a list of default exclusion patterns (e.g., node_modules, .git, binary files). Defaults to true.',
          default: true,
        },
        file_filtering_options: {
          description: 'Whether to respect ignore patterns from .gitignore or .geminiignore',
          type: 'object',
          properties: { respect_git_ignore: { type: 'boolean' }, respect_gemini_ignore: { type: 'boolean' } },
        },
      },
      required: ['include'],
    },
  },
  {
    name: 'save_memory',
    description:
      'Saves a specific piece of information or fact to your long-term memory.\n\nUse this tool:\n\n- When the user explicitly asks you to remember something (e.g., "Remember that I like pineapple on pizza", "Please save this: my cat\'s name is Whiskers").\n- When the user states a clear, concise fact about themselves, their preferences, or their environment that seems important for you to retain for future interactions to provide a more personalized and effective assistance.\n\nDo NOT use this tool:\n\n- To remember conversational context that is only relevant for the current session.\n- To save long, complex, or rambling pieces of text. The fact should be relatively short and to the point.',
    parametersJsonSchema: {
      type: 'object',
      properties: {
        fact: str(
          'The specific fact or piece of information to remember. Should be a clear, self-contained statement. For example, if the user says "My favorite color is blue", the fact would be "My favorite color is blue".',
        ),
      },
      required: ['fact'],
      additionalProperties: false,
    },
  },
  {
    name: 'write_todos',
    description:
      "This tool can help you list out the current subtasks that are required to be completed for a given user request. The list of subtasks helps you keep track of the current task, organize complex queries and help ensure that you don't miss any steps. With this list, the user can also see the current progress you are making in executing a given task.\n\nDepending on the task complexity, you should first divide a given task into subtasks and then use this tool to list out the subtasks that are required to be completed for a given user request.\nEach of the subtasks should be clear and distinct.\n\nUse this tool for complex queries that require multiple steps. If you find that the request is actually complex after you have started executing the user task, create a todo list and use it. If execution of the user task requires multiple steps, planning and generally is higher complexity than a simple Q&A, use this tool.\n\nDO NOT use this tool for simple tasks that can be completed in less than 2 steps.",
    parametersJsonSchema: {
      type: 'object',
      properties: {
        todos: {
          type: 'array',
          description: 'The complete list of todo items. This will replace the existing list.',
          items: {
            type: 'object',
            description: 'A single todo item.',
            properties: {
              description: { type: 'string', description: 'The description of the task.' },
              status: {
                type: 'string',
                description: 'The current status of the task.',
                enum: ['pending', 'in_progress', 'completed', 'cancelled'],
              },
            },
            required: ['description', 'status'],
            additionalProperties: false,
          },
        },
      },
      required: ['todos'],
      additionalProperties: false,
    },
  },
  {
    name: 'ask_user',
    description:
      'Ask the user one or more questions when the request is ambiguous or a decision needs their input. Prefer offering concrete options.',
    parametersJsonSchema: {
      type: 'object',
      properties: {
        questions: {
          type: 'array',
          minItems: 1,
          maxItems: 4,
          items: {
            type: 'object',
            properties: {
              question: { type: 'string', description: 'The complete question to ask the user.' },
              header: { type: 'string', description: 'A very short label (max 12 chars) displayed as a chip.' },
              options: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { label: { type: 'string' }, description: { type: 'string' } },
                  required: ['label', 'description'],
                },
              },
              multiSelect: { type: 'boolean', default: false },
            },
            required: ['question', 'header'],
          },
        },
      },
      required: ['questions'],
    },
  },
  {
    name: 'enter_plan_mode',
    description:
      'Switch to plan mode to research and design an approach before making changes. Use for large or risky tasks; the user approves the plan before any file is modified.',
    parametersJsonSchema: {
      type: 'object',
      properties: { reason: str('Why planning first is appropriate for this request.') },
    },
  },
  {
    name: 'get_internal_docs',
    description:
      'Returns the content of Gemini CLI internal documentation files. If no path is provided, returns a list of all available documentation paths.',
    parametersJsonSchema: {
      type: 'object',
      properties: {
        path: str(
          "The relative path to the documentation file (e.g., 'cli/commands.md'). If omitted, lists all available documentation.",
        ),
      },
    },
  },
  {
    name: 'activate_skill',
    description:
      "Activates a specialized agent skill by name. Returns the skill's instructions wrapped in `<activated_skill>` tags. These provide specialized guidance for the current task.",
    parametersJsonSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: {
        name: {
          type: 'string',
          enum: ['skill-creator', 'code-review', 'docs-writer', 'release-notes'],
          description: 'The name of the skill to activate.',
        },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
];

const SESSION_CONTEXT =
  "<session_context>\nThis is the Gemini CLI. We are setting up the context for our chat.\nToday's date is Monday, July 6, 2026 (formatted according to the user's locale).\nMy operating system is: linux\nThe project's temporary directory is: /home/user/.gemini/tmp/3f2a\nI'm currently working in the directory: /home/user/example-service\nHere is the folder structure of the current working directories:\n\nShowing up to 200 items (files + folders).\n\n/home/user/example-service/\n├───package.json\n├───README.md\n├───tsconfig.json\n├───src/\n│   ├───cli.ts\n│   ├───config/\n│   ├───server/\n│   └───translate/\n└───test/\n    ├───server/\n    └───translate/\n</session_context>";

/** The CLI-shaped main turn: history with one function call and its result, then the new user message. */
export function buildCliRequest(systemPromptChars = 30_000) {
  return {
    contents: [
      {
        role: 'user',
        parts: [{ text: SESSION_CONTEXT }, { text: 'Why does the streaming test in test/server fail on CI?' }],
      },
      {
        role: 'model',
        parts: [
          { text: 'Let me look at the test first.', thought: true, thoughtSignature: 'c2lnbmF0dXJlLW9uZQ==' },
          {
            functionCall: {
              name: 'read_file',
              args: { file_path: '/home/user/example-service/test/server/stream.test.ts' },
            },
            thoughtSignature: 'c2lnbmF0dXJlLXR3bw==',
          },
        ],
      },
      {
        role: 'user',
        parts: [
          {
            functionResponse: {
              name: 'read_file',
              response: {
                output:
                  "import assert from 'node:assert/strict';\nimport { it } from 'node:test';\n\nit('streams in order', async () => {\n  const events = await collect(stream({ chunks: 64 }));\n  assert.equal(events.length, 64);\n  assert.deepEqual(events.map((event) => event.index), [...Array(64).keys()]);\n});\n",
              },
            },
          },
        ],
      },
      {
        role: 'model',
        parts: [
          {
            text: 'The test asserts 64 events but the stream ends with a usage-only chunk, so CI sees 65. Want me to fix the assertion?',
          },
        ],
      },
      { role: 'user', parts: [{ text: 'Yes, fix it and run the test.' }] },
    ],
    systemInstruction: { role: 'user', parts: [{ text: buildSystemPrompt(systemPromptChars) }] },
    tools: [{ functionDeclarations: TOOL_DECLARATIONS }],
    generationConfig: {
      temperature: 1,
      topP: 0.95,
      topK: 64,
      thinkingConfig: { includeThoughts: true, thinkingLevel: 'HIGH' },
    },
  };
}

export const SMALL_REQUEST = {
  contents: [{ role: 'user', parts: [{ text: 'Say hello in one short sentence.' }] }],
  generationConfig: { temperature: 0.7, maxOutputTokens: 64 },
};
