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
                "description": {
                  "type": "string"
                },
                "content": {
                  "application/json": {
                    "schema": "text/html"
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
                "description": {
                  "type": "object"
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
                "description": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/Profile"
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
                "description": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/Subject"
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
                "description": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/Provider"
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
                "description": {
                  "$ref": "#/components/schemas/Upload"
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
                "description": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/Render"
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
                "description": {
                  "$ref": "#/components/schemas/Render"
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
                "description": {
                  "$ref": "#/components/schemas/Render"
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
                "description": {
                  "type": "string"
                },
                "content": {
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
                            "type": "object"
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
                "description": {
                  "$ref": "#/components/schemas/Render"
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
                "description": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/Run"
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
                "description": {
                  "$ref": "#/components/schemas/RunDetail"
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
            "summary": "One output of a finished stage (still, cover, isolated vocals, \u2026), with range requests",
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
