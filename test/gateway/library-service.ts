/**
 * A tiny in-test implementation of the test-only LibraryService (test/proto), instrumented for the
 * gateway tests: it counts the items its stream produced and whether its `finally` ran.
 */
import { AppError, ErrorCode } from "../../src/domain/errors.js";
import type { CallContext, RegisteredService, ServiceImplementation } from "../../src/services/rpc.js";
import { LibraryServiceService, type Book } from "../gen/ts/logbook/test/v1/library_service.js";

export interface LibraryState {
  /** Items the ListBooks generator has yielded (i.e. pulled by the gateway). */
  pulled: number;
  /** ListBooks generators whose `finally` ran. */
  finished: number;
  /** Calls whose signal was aborted (the client went away). */
  aborted: number;
  /** Last CallContext seen. */
  lastContext?: CallContext;
}

export function createLibraryService(): { service: RegisteredService; state: LibraryState } {
  const state: LibraryState = { pulled: 0, finished: 0, aborted: 0 };
  const implementation: ServiceImplementation<typeof LibraryServiceService> = {
    async getShelf(req, ctx) {
      state.lastContext = ctx;
      if (req.name === "shelves/missing") throw new AppError(ErrorCode.RESOURCE_DOES_NOT_EXIST, `Shelf ${req.name} not found`);
      return { shelf: { name: req.name, theme: "sci-fi" } };
    },
    async archiveShelf(req) {
      return { name: req.name, reason: req.reason };
    },
    async updateBook(req) {
      return { book: req.book, updateMask: req.updateMask };
    },
    async getFile(req) {
      return { path: req.path, root: req.root };
    },
    async getBookTitle(req) {
      return { title: `Title of ${req.bookId}`, pages: 100n };
    },
    async checkBook(req) {
      if (req.bookId === "missing") throw new AppError(ErrorCode.RESOURCE_DOES_NOT_EXIST, "no such book");
      return {};
    },
    async deleteBook(req) {
      return { bookId: req.bookId, force: req.force };
    },
    async echo(req, ctx) {
      state.lastContext = ctx;
      if (req.text === "boom") throw new TypeError("secret internal detail");
      if (req.text === "wait") {
        // Until the client goes away.
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
        state.aborted++;
      }
      return { request: req };
    },
    async *listBooks(req, ctx) {
      try {
        for (let i = 1; req.count === 0 || i <= req.count; i++) {
          if (i === req.failAt) throw new AppError(ErrorCode.RESOURCE_DOES_NOT_EXIST, `Book ${i} not found`);
          if (ctx.signal.aborted) return;
          const book: Book = { shelfId: req.shelfId, bookId: `b${i}`, title: `Book ${i}`, pages: BigInt(i), padding: "x".repeat(req.paddingBytes) };
          state.pulled++;
          yield { book };
        }
      } finally {
        if (ctx.signal.aborted) state.aborted++;
        state.finished++;
      }
    },
    async unbound() {
      return {};
    },
  };
  return {
    service: { name: "logbook.test.v1.LibraryService", definition: LibraryServiceService, implementation } as unknown as RegisteredService,
    state,
  };
}
