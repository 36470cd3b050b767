//! The MCP server that lets an AI agent ask its owner through Assent (`assent mcp`, whose
//! command is in `cmd/mcp.rs`): the agent's key file, the tools, and the wait for an answer.

pub mod keyfile;
pub mod server;
pub mod wait;
