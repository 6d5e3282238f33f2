import { definePortal } from "../../shared/pipeline/manifest.ts";
import { book } from "./actions/book.ts";
import { documents } from "./actions/documents.ts";
import { invoices } from "./actions/invoices.ts";
import { tracking } from "./actions/tracking.ts";
import { contract } from "./contract.ts";

/** The Shipper portal: a customer books from its quotes, tracks its loads, reads its documents and invoices. */
export default definePortal({ contract, actions: [book, tracking, documents, invoices] });
