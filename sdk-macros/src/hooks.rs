//! The methods a `Plugin` impl may define, and the shape of each, so that a
//! misspelt hook or a wrong parameter list is reported on the user's method
//! with the expected signature, not as a trait mismatch.

use syn::{FnArg, ImplItem, ImplItemFn};

/// A method of the `Plugin` trait.
struct Hook {
    name: &'static str,
    /// Whether it takes `&mut self`.
    takes_self: bool,
    /// Parameters after `self`.
    params: usize,
    signature: &'static str,
}

const HOOKS: &[Hook] = &[
    Hook {
        name: "init",
        takes_self: false,
        params: 1,
        signature: "fn init(config: Self::Config) -> Result<Self, PluginError>",
    },
    Hook {
        name: "http_pre_hook",
        takes_self: true,
        params: 2,
        signature: "fn http_pre_hook(&mut self, ctx: &mut Context, req: HttpRequest) \
                    -> Result<HttpPreHook, PluginError>",
    },
    Hook {
        name: "http_post_hook",
        takes_self: true,
        params: 3,
        signature: "fn http_post_hook(&mut self, ctx: &mut Context, req: &HttpRequest, \
                    resp: &HttpResponse) -> Result<(), PluginError>",
    },
    Hook {
        name: "http_stream_chunk_hook",
        takes_self: true,
        params: 3,
        signature: "fn http_stream_chunk_hook(&mut self, ctx: &mut Context, req: &HttpRequest, \
                    chunk: StreamChunk) -> Result<StreamChunkHook, PluginError>",
    },
    Hook {
        name: "pre_hook",
        takes_self: true,
        params: 2,
        signature: "fn pre_hook(&mut self, ctx: &mut Context, req: LlmRequest) \
                    -> Result<PreHook, PluginError>",
    },
    Hook {
        name: "post_hook",
        takes_self: true,
        params: 3,
        signature: "fn post_hook(&mut self, ctx: &mut Context, response: Option<LlmResponse>, \
                    error: Option<LlmError>) -> Result<PostHook, PluginError>",
    },
    Hook {
        name: "cleanup",
        takes_self: true,
        params: 0,
        signature: "fn cleanup(&mut self) -> Result<(), PluginError>",
    },
];

/// Checks every method of the impl against [`HOOKS`].
pub fn validate(items: &[ImplItem]) -> syn::Result<()> {
    let mut errors: Option<syn::Error> = None;
    for item in items {
        if let ImplItem::Fn(method) = item {
            if let Err(e) = validate_method(method) {
                match &mut errors {
                    Some(all) => all.combine(e),
                    None => errors = Some(e),
                }
            }
        }
    }
    errors.map_or(Ok(()), Err)
}

fn validate_method(method: &ImplItemFn) -> syn::Result<()> {
    let ident = &method.sig.ident;
    let Some(hook) = HOOKS.iter().find(|h| ident == h.name) else {
        let names: Vec<_> = HOOKS.iter().map(|h| h.name).collect();
        return Err(syn::Error::new_spanned(
            ident,
            format!(
                "`{ident}` is not a Plugin hook; the hooks are: {}",
                names.join(", ")
            ),
        ));
    };
    let receiver = method.sig.receiver();
    let receiver_ok = match (hook.takes_self, receiver) {
        (false, None) => true,
        (true, Some(r)) => r.reference.is_some() && r.mutability.is_some(),
        _ => false,
    };
    let params = method
        .sig
        .inputs
        .iter()
        .filter(|arg| matches!(arg, FnArg::Typed(_)))
        .count();
    if !receiver_ok || params != hook.params {
        return Err(syn::Error::new_spanned(
            &method.sig,
            format!(
                "wrong signature for `{}`; expected `{}`",
                hook.name, hook.signature
            ),
        ));
    }
    Ok(())
}
