//! Forward-compatible enums, emitted from the spec's string enums.
//!
//! Each spec value becomes a named variant; any other string is kept in `Unrecognized` and
//! serializes back exactly as received. The catch-all is not called `Unknown` because
//! `ServiceActionEnum` already has a value `UNKNOWN`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::spec::StringEnum;

pub(crate) fn tokens(e: &StringEnum) -> TokenStream {
    let name = Ident::new(&e.name, Span::call_site());
    let variants: Vec<Ident> =
        e.values.iter().map(|v| Ident::new(&variant_name(v), Span::call_site())).collect();
    let values = &e.values;
    let schema_name = &e.name;
    let value_docs = e.values.iter().map(|v| format!("`{v}`"));
    let type_doc = format!(
        "{}\n\nForward compatible: a value this client does not know is kept in \
         [`{}::Unrecognized`] and serialized back unchanged, so a new value added by Qovery \
         never fails a response.\n\n```\nuse qovery_backups_api::types::{};\n\nlet known: {} = \
         \"{}\".parse().unwrap();\nassert_eq!(known.as_str(), \"{}\");\nlet new: {} = \
         \"SOMETHING_NEW\".into();\nassert!(!new.is_known());\nassert_eq!(new.to_string(), \
         \"SOMETHING_NEW\");\n```",
        e.description.as_deref().unwrap_or("A string enum of the Qovery API.").trim_end(),
        e.name,
        e.name,
        e.name,
        e.values[0],
        e.values[0],
        e.name,
    );
    let default_impl = e.default.as_ref().map(|d| {
        quote! {
            impl ::std::default::Default for #name {
                fn default() -> Self {
                    Self::from(#d)
                }
            }
        }
    });

    quote! {
        #[doc = #type_doc]
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        pub enum #name {
            #(
                #[doc = #value_docs]
                #variants,
            )*
            /// A value openapi.yaml does not list (yet), exactly as received.
            Unrecognized(::std::string::String),
        }

        impl #name {
            /// Every value openapi.yaml lists, in its order.
            pub const KNOWN_VALUES: &'static [&'static str] = &[#(#values),*];

            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #(Self::#variants => #values,)*
                    Self::Unrecognized(value) => value.as_str(),
                }
            }

            /// Whether openapi.yaml lists this value.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unrecognized(_))
            }

            fn from_known(value: &str) -> ::std::option::Option<Self> {
                match value {
                    #(#values => ::std::option::Option::Some(Self::#variants),)*
                    _ => ::std::option::Option::None,
                }
            }
        }

        // Equality, hashing and order follow the wire value, so `Unrecognized("X")` built by hand
        // equals the named variant for `X`.
        impl ::std::cmp::PartialEq for #name {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }
        impl ::std::cmp::Eq for #name {}
        impl ::std::hash::Hash for #name {
            fn hash<H: ::std::hash::Hasher>(&self, state: &mut H) {
                self.as_str().hash(state)
            }
        }
        impl ::std::cmp::PartialOrd for #name {
            fn partial_cmp(&self, other: &Self) -> ::std::option::Option<::std::cmp::Ordering> {
                ::std::option::Option::Some(self.cmp(other))
            }
        }
        impl ::std::cmp::Ord for #name {
            fn cmp(&self, other: &Self) -> ::std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }

        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                Self::from_known(value).unwrap_or_else(|| Self::Unrecognized(value.to_owned()))
            }
        }
        impl ::std::convert::From<::std::string::String> for #name {
            fn from(value: ::std::string::String) -> Self {
                Self::from_known(&value).unwrap_or(Self::Unrecognized(value))
            }
        }
        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                ::std::result::Result::Ok(Self::from(value))
            }
        }
        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::std::convert::AsRef<str> for #name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
        #default_impl

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                struct Visitor;
                impl ::serde::de::Visitor<'_> for Visitor {
                    type Value = #name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a string")
                    }
                    // Known values borrow nothing and allocate nothing.
                    fn visit_str<E: ::serde::de::Error>(self, value: &str) -> ::std::result::Result<#name, E> {
                        ::std::result::Result::Ok(#name::from(value))
                    }
                    fn visit_string<E: ::serde::de::Error>(self, value: ::std::string::String) -> ::std::result::Result<#name, E> {
                        ::std::result::Result::Ok(#name::from(value))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        #[cfg(feature = "schemars")]
        impl ::schemars::JsonSchema for #name {
            fn schema_name() -> ::std::string::String {
                #schema_name.to_owned()
            }
            fn json_schema(_: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                // Any string is accepted; the known values are listed for readers and tools.
                ::schemars::schema::SchemaObject {
                    instance_type: ::std::option::Option::Some(::schemars::schema::InstanceType::String.into()),
                    metadata: ::std::option::Option::Some(::std::boxed::Box::new(::schemars::schema::Metadata {
                        examples: Self::KNOWN_VALUES.iter().map(|v| ::serde_json::Value::from(*v)).collect(),
                        ..::std::default::Default::default()
                    })),
                    ..::std::default::Default::default()
                }
                .into()
            }
        }
    }
}

/// `BUILD_ERROR` → `BuildError`; a value that starts with a digit gets a leading `V`.
pub(crate) fn variant_name(value: &str) -> String {
    let mut name = String::with_capacity(value.len());
    for word in value.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'V');
    }
    name
}
