/// The OpenAPI 3.1 description of the studio's JSON API, served at /openapi.json.
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "farm studio API",
        "version": "1",
        "description": "The JSON API of `farm serve`. Requests that change something (POST) must carry `X-Farm-Studio: 1` and, from a browser, come from the studio's own origin. A studio listening beyond loopback needs its token: `Authorization: Bearer TOKEN` or the cookie set by `/?token=TOKEN`. Every error answers `{\"error\", \"hint\"}`."
      },
      "paths": {
        "/": {
          "get": {
            "summary": "The studio page",
            "responses": {
              "200": {
                "description": "the page (HTML)",
                "content": {
                  "text/html": {
                    "schema": {
                      "type": "string"
                    }
                  }
                }
              },
              "303": {
                "description": "token accepted: cookie set, redirect to /"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/openapi.json": {
          "get": {
            "summary": "This document",
            "responses": {
              "200": {
                "description": "this document",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object"
                    }
                  }
                }
              }
            }
          }
        },
        "/api/profiles": {
          "get": {
            "summary": "Render profiles",
            "responses": {
              "200": {
                "description": "render profiles",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Profile"
                      }
                    }
                  }
                }
              }
            }
          }
        },
        "/api/subjects": {
          "get": {
            "summary": "Subjects and their models",
            "responses": {
              "200": {
                "description": "subjects and their models",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Subject"
                      }
                    }
                  }
                }
              }
            }
          }
        },
        "/api/providers": {
          "get": {
            "summary": "Stage providers and their stages",
            "responses": {
              "200": {
                "description": "stage providers and their stages",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Provider"
                      }
                    }
                  }
                }
              }
            }
          }
        },
        "/api/uploads": {
          "post": {
            "summary": "Upload a song file (streamed to disk, size-capped; never served)",
            "parameters": [
              {
                "name": "name",
                "in": "query",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "the file's name; its extension must be a song format"
              }
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/octet-stream": {
                  "schema": {
                    "type": "string",
                    "format": "binary"
                  }
                }
              }
            },
            "responses": {
              "201": {
                "description": "upload a song file (streamed to disk, size-capped; never served)",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Upload"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              },
              "415": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/renders": {
          "get": {
            "summary": "Queued, running and past renders submitted to this studio, newest first",
            "responses": {
              "200": {
                "description": "queued, running and past renders submitted to this studio, newest first",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Render"
                      }
                    }
                  }
                }
              }
            }
          },
          "post": {
            "summary": "Check a render (as farm render --dry-run) and queue it",
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/RenderRequest"
                  }
                }
              }
            },
            "responses": {
              "202": {
                "description": "check a render (as farm render --dry-run) and queue it",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Render"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/renders/{id}": {
          "get": {
            "summary": "One render",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "render id"
              }
            ],
            "responses": {
              "200": {
                "description": "one render",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Render"
                    }
                  }
                }
              },
              "404": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/renders/{id}/events": {
          "get": {
            "summary": "The render's events: the same JSON objects as farm render --json, from the first. As server-sent events (ending after `finished`), or with ?from=N as one JSON page for clients that poll",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "render id"
              },
              {
                "name": "from",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "integer",
                  "minimum": 0
                },
                "description": "poll instead of streaming: the events from index N that exist now"
              }
            ],
            "responses": {
              "200": {
                "description": "the events: live ones as they happen; for a render that ended before this server started (or long ago), rebuilt from the store (each started stage's last state and time; the finished event carries \"replayed\": true)",
                "content": {
                  "text/event-stream": {
                    "schema": {
                      "type": "string",
                      "description": "one `data: EVENT` message per event, EVENT an Event as JSON"
                    }
                  },
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "events",
                        "next",
                        "done"
                      ],
                      "properties": {
                        "events": {
                          "type": "array",
                          "items": {
                            "$ref": "#/components/schemas/Event"
                          }
                        },
                        "next": {
                          "type": "integer",
                          "description": "the from= of the next poll"
                        },
                        "done": {
                          "type": "boolean",
                          "description": "no more events will come"
                        }
                      }
                    }
                  }
                }
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "400": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/renders/{id}/cancel": {
          "post": {
            "summary": "Cancel a waiting or running render",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "render id"
              }
            ],
            "responses": {
              "202": {
                "description": "cancel a waiting or running render",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Render"
                    }
                  }
                }
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "409": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/runs": {
          "get": {
            "summary": "Runs in the store (CLI and studio), newest first",
            "parameters": [
              {
                "name": "limit",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 500,
                  "default": 50
                }
              }
            ],
            "responses": {
              "200": {
                "description": "runs in the store (CLI and studio), newest first",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Run"
                      }
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/runs/{id}": {
          "get": {
            "summary": "One run with its stages and their outputs",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "run id"
              }
            ],
            "responses": {
              "200": {
                "description": "one run with its stages and their outputs",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/RunDetail"
                    }
                  }
                }
              },
              "404": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/runs/{id}/video": {
          "get": {
            "summary": "The finished video, with range requests",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "run id"
              },
              {
                "name": "Range",
                "in": "header",
                "required": false,
                "schema": {
                  "type": "string"
                },
                "description": "bytes=START-END, START- or -SUFFIX"
              }
            ],
            "responses": {
              "200": {
                "description": "the whole file",
                "headers": {
                  "Accept-Ranges": {
                    "schema": {
                      "type": "string"
                    }
                  }
                },
                "content": {
                  "*/*": {
                    "schema": {
                      "type": "string",
                      "format": "binary"
                    }
                  }
                }
              },
              "206": {
                "description": "the requested range",
                "headers": {
                  "Content-Range": {
                    "schema": {
                      "type": "string"
                    }
                  }
                },
                "content": {
                  "*/*": {
                    "schema": {
                      "type": "string",
                      "format": "binary"
                    }
                  }
                }
              },
              "416": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/runs/{id}/still": {
          "get": {
            "summary": "The run's still image (thumbnail)",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "run id"
              },
              {
                "name": "Range",
                "in": "header",
                "required": false,
                "schema": {
                  "type": "string"
                },
                "description": "bytes=START-END, START- or -SUFFIX"
              }
            ],
            "responses": {
              "200": {
                "description": "the whole file",
                "headers": {
                  "Accept-Ranges": {
                    "schema": {
                      "type": "string"
                    }
                  }
                },
                "content": {
                  "*/*": {
                    "schema": {
                      "type": "string",
                      "format": "binary"
                    }
                  }
                }
              },
              "206": {
                "description": "the requested range",
                "headers": {
                  "Content-Range": {
                    "schema": {
                      "type": "string"
                    }
                  }
                },
                "content": {
                  "*/*": {
                    "schema": {
                      "type": "string",
                      "format": "binary"
                    }
                  }
                }
              },
              "416": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/runs/{id}/stages/{stage}/outputs/{port}": {
          "get": {
            "summary": "One output of a finished stage (still, cover, isolated vocals, …), with range requests",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "run id"
              },
              {
                "name": "stage",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "stage name"
              },
              {
                "name": "port",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "output port"
              },
              {
                "name": "Range",
                "in": "header",
                "required": false,
                "schema": {
                  "type": "string"
                },
                "description": "bytes=START-END, START- or -SUFFIX"
              }
            ],
            "responses": {
              "200": {
                "description": "the whole file",
                "headers": {
                  "Accept-Ranges": {
                    "schema": {
                      "type": "string"
                    }
                  }
                },
                "content": {
                  "*/*": {
                    "schema": {
                      "type": "string",
                      "format": "binary"
                    }
                  }
                }
              },
              "206": {
                "description": "the requested range",
                "headers": {
                  "Content-Range": {
                    "schema": {
                      "type": "string"
                    }
                  }
                },
                "content": {
                  "*/*": {
                    "schema": {
                      "type": "string",
                      "format": "binary"
                    }
                  }
                }
              },
              "416": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        }
      },
      "components": {
        "responses": {
          "Error": {
            "description": "error",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        },
        "schemas": {
          "Error": {
            "type": "object",
            "required": [
              "error",
              "hint"
            ],
            "properties": {
              "error": {
                "type": "string"
              },
              "hint": {
                "type": [
                  "string",
                  "null"
                ]
              }
            }
          },
          "Profile": {
            "type": "object",
            "required": [
              "name"
            ],
            "properties": {
              "name": {
                "type": "string"
              },
              "description": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "extends": {
                "type": [
                  "string",
                  "null"
                ]
              }
            }
          },
          "Subject": {
            "type": "object",
            "required": [
              "name",
              "trigger"
            ],
            "properties": {
              "name": {
                "type": "string"
              },
              "trigger": {
                "type": "string"
              },
              "image_model": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "voice_model": {
                "type": [
                  "string",
                  "null"
                ]
              }
            }
          },
          "Port": {
            "type": "object",
            "properties": {
              "name": {
                "type": "string"
              },
              "kind": {
                "type": "string"
              }
            }
          },
          "Provider": {
            "type": "object",
            "required": [
              "name",
              "stages"
            ],
            "properties": {
              "name": {
                "type": "string"
              },
              "summary": {
                "type": "string"
              },
              "stages": {
                "type": "array",
                "items": {
                  "type": "object",
                  "properties": {
                    "id": {
                      "type": "string"
                    },
                    "summary": {
                      "type": "string"
                    },
                    "deterministic": {
                      "type": "boolean"
                    },
                    "inputs": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Port"
                      }
                    },
                    "outputs": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Port"
                      }
                    }
                  }
                }
              }
            }
          },
          "Upload": {
            "type": "object",
            "required": [
              "upload",
              "name",
              "size"
            ],
            "properties": {
              "upload": {
                "type": "string"
              },
              "name": {
                "type": "string"
              },
              "size": {
                "type": "integer"
              }
            }
          },
          "RenderRequest": {
            "type": "object",
            "required": [
              "profile"
            ],
            "description": "exactly one of upload and link",
            "properties": {
              "profile": {
                "type": "string"
              },
              "subject": {
                "type": "string"
              },
              "upload": {
                "type": "string"
              },
              "name": {
                "type": "string",
                "description": "the song's name to show"
              },
              "link": {
                "type": "string",
                "format": "uri"
              },
              "settings": {
                "type": "array",
                "items": {
                  "type": "string"
                },
                "description": "STAGE.PARAM=VALUE overrides"
              },
              "start": {
                "type": [
                  "string",
                  "number"
                ],
                "description": "render the song from this time (as farm render --start): seconds, M:SS or H:MM:SS"
              },
              "end": {
                "type": [
                  "string",
                  "number"
                ],
                "description": "render the song up to this time (as farm render --end)"
              },
              "clip": {
                "type": "string",
                "description": "START-END instead of start and end (as farm render --clip), e.g. 0:30-1:45; either end may be left out"
              },
              "refresh": {
                "type": "boolean",
                "description": "fetch a song link again even when the store holds a fresh copy (as farm render --refresh)"
              }
            }
          },
          "Event": {
            "type": "object",
            "required": [
              "event"
            ],
            "description": "one event as farm render --json prints it; the fields depend on the kind",
            "properties": {
              "event": {
                "enum": [
                  "queued",
                  "download",
                  "note",
                  "started",
                  "stage",
                  "progress",
                  "chunks",
                  "log",
                  "finished"
                ]
              },
              "run": {
                "type": "string"
              },
              "stage": {
                "type": "string",
                "description": "the stage an event of a stage is about"
              },
              "status": {
                "type": "string",
                "description": "stage: the stage's new state; finished: succeeded, failed or interrupted"
              },
              "stages": {
                "description": "started: the planned stages in plan order, each with the stages it reads (the graph's edges); finished: each stage's outcome by name",
                "oneOf": [
                  {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/PlannedStage"
                    }
                  },
                  {
                    "type": "object"
                  }
                ]
              },
              "done": {
                "type": "integer",
                "description": "chunks: chunks finished"
              },
              "total": {
                "type": "integer",
                "description": "chunks: chunks in all"
              },
              "cached": {
                "type": "integer",
                "description": "chunks: finished chunks that came from the cache"
              },
              "seconds": {
                "type": [
                  "number",
                  "null"
                ]
              },
              "error": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "hint": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "replayed": {
                "type": "boolean",
                "description": "finished: rebuilt from the store rather than sent live"
              }
            }
          },
          "PlannedStage": {
            "type": "object",
            "required": [
              "name",
              "implementation",
              "provider",
              "depends_on"
            ],
            "properties": {
              "name": {
                "type": "string"
              },
              "implementation": {
                "type": "string"
              },
              "provider": {
                "type": "string"
              },
              "depends_on": {
                "type": "array",
                "items": {
                  "type": "string"
                },
                "description": "the stages whose outputs this one reads: the graph's edges into it"
              }
            }
          },
          "Render": {
            "type": "object",
            "required": [
              "id",
              "state"
            ],
            "properties": {
              "id": {
                "type": "string"
              },
              "state": {
                "enum": [
                  "queued",
                  "running",
                  "finished",
                  "cancelled"
                ]
              },
              "profile": {
                "type": "string"
              },
              "subject": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "song": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "run": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "start": {
                "type": [
                  "number",
                  "null"
                ],
                "description": "the clip's start, seconds"
              },
              "end": {
                "type": [
                  "number",
                  "null"
                ],
                "description": "the clip's end, seconds"
              },
              "created": {
                "type": "string"
              },
              "finished": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "error": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "hint": {
                "type": [
                  "string",
                  "null"
                ]
              }
            }
          },
          "Run": {
            "type": "object",
            "required": [
              "run",
              "status"
            ],
            "properties": {
              "run": {
                "type": "string"
              },
              "status": {
                "type": "string"
              },
              "profile": {
                "type": "string"
              },
              "subject": {
                "type": "string"
              },
              "song": {
                "type": "string"
              },
              "created": {
                "type": "string"
              },
              "finished": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "error": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "resumed_from": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "video": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "still": {
                "type": "string"
              }
            }
          },
          "RunDetail": {
            "allOf": [
              {
                "$ref": "#/components/schemas/Run"
              },
              {
                "type": "object",
                "properties": {
                  "stages": {
                    "type": "array",
                    "description": "every planned stage in plan order; one that never started is waiting (while the run runs) or interrupted",
                    "items": {
                      "type": "object",
                      "properties": {
                        "stage": {
                          "type": "string"
                        },
                        "implementation": {
                          "type": "string"
                        },
                        "provider": {
                          "type": "string"
                        },
                        "status": {
                          "type": "string"
                        },
                        "cached": {
                          "type": "boolean"
                        },
                        "seconds": {
                          "type": [
                            "number",
                            "null"
                          ]
                        },
                        "error": {
                          "type": [
                            "string",
                            "null"
                          ]
                        },
                        "depends_on": {
                          "type": "array",
                          "items": {
                            "type": "string"
                          },
                          "description": "the stages whose outputs this one reads: the graph's edges into it"
                        },
                        "chunks": {
                          "type": [
                            "integer",
                            "null"
                          ],
                          "description": "for a stage rendered in chunks: how many"
                        },
                        "chunks_cached": {
                          "type": [
                            "integer",
                            "null"
                          ],
                          "description": "of those, how many came from the cache"
                        },
                        "outputs": {
                          "type": "array",
                          "items": {
                            "type": "object",
                            "properties": {
                              "port": {
                                "type": "string"
                              },
                              "kind": {
                                "type": "string"
                              },
                              "url": {
                                "type": "string"
                              }
                            }
                          }
                        }
                      }
                    }
                  }
                }
              }
            ]
          }
        }
      }
    }
    """#
}
